package org.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/** Causal multi-head self-attention over one sequence's key/value cache. */
public final class Attention {
    private static final VectorSpecies<Float> F = Lanes.FLOATS;
    private static final int L = Lanes.LENGTH;
    private static final ThreadLocal<float[][]> SCORES = ThreadLocal.withInitial(() -> new float[][] {new float[1024]});

    private Attention() {}

    /**
     * Attention for {@code rows} new query rows at absolute positions {@code start .. start + rows - 1}.
     *
     * <p>Layouts, with {@code width = nHead * headDim} and head {@code h} at columns {@code h * headDim}:
     * {@code q} is {@code [rows, width]} read from {@code q[qOffset + r * qStride + ...]};
     * {@code keys} and {@code values} are {@code [capacity, width]} and already hold positions
     * {@code 0 .. start + rows - 1}; {@code out} is {@code [rows, width]} written at
     * {@code out[outOffset + r * outStride + ...]}. Query row {@code r} sees keys {@code 0 .. start + r}.
     * {@code scale} multiplies each q·k (usually {@code 1 / sqrt(headDim)}).
     *
     * <p>One task per (row, head); q·k and the weighted sum of values are vectorised over the head dimension.
     */
    public static void causal(float[] out, int outOffset, int outStride, float[] q, int qOffset, int qStride,
                              float[] keys, float[] values, int rows, int start, int nHead, int headDim, float scale) {
        int width = nHead * headDim;
        Parallel.forEach(rows * nHead, task -> {
            int r = task / nHead;
            int h = task % nHead;
            int visible = start + r + 1;
            float[] scores = scores(visible);
            int qBase = qOffset + r * qStride + h * headDim;
            for (int t = 0; t < visible; t++) {
                scores[t] = Lanes.dot(q, qBase, keys, t * width + h * headDim, headDim) * scale;
            }
            Activations.softmax(scores, 0, visible);
            int oBase = outOffset + r * outStride + h * headDim;
            for (int d = 0; d < headDim; d += L) {
                VectorMask<Float> valid = F.indexInRange(d, headDim);
                FloatVector acc = FloatVector.zero(F);
                for (int t = 0; t < visible; t++) {
                    FloatVector v = FloatVector.fromArray(F, values, t * width + h * headDim + d, valid);
                    acc = v.fma(FloatVector.broadcast(F, scores[t]), acc);
                }
                acc.intoArray(out, oBase + d, valid);
            }
        });
    }

    /** This thread's score buffer, grown to hold at least {@code n} positions. */
    private static float[] scores(int n) {
        float[][] holder = SCORES.get();
        if (holder[0].length < n) holder[0] = new float[Math.max(n, 2 * holder[0].length)];
        return holder[0];
    }
}
