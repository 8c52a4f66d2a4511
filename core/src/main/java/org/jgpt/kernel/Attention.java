package org.jgpt.kernel;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/** Causal multi-head self-attention over one sequence's key/value cache. */
public final class Attention {
    private static final VectorSpecies<Float> F = Lanes.FLOATS;
    private static final int L = Lanes.LENGTH;
    /** From this many query rows on, transposing the keys once costs less than a horizontal sum per q·k. */
    private static final int TRANSPOSE_MIN_ROWS = 8;
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
     * <p>One task per (row, head), vectorised over the head dimension. For many rows (prefill) the keys are first
     * transposed to {@code [width, positions]}, so that the scores of a row are a sum over the head dimension of
     * key columns, vectorised over positions; one horizontal sum per q·k would otherwise dominate.
     */
    public static void causal(float[] out, int outOffset, int outStride, float[] q, int qOffset, int qStride,
                              float[] keys, float[] values, int rows, int start, int nHead, int headDim, float scale) {
        int width = nHead * headDim;
        int positions = start + rows;
        float[] columns = rows >= TRANSPOSE_MIN_ROWS ? transpose(keys, positions, width) : null;
        Parallel.forEach(rows * nHead, task -> {
            int r = task / nHead;
            int h = task % nHead;
            int visible = start + r + 1;
            float[] scores = scores(visible);
            int qBase = qOffset + r * qStride + h * headDim;
            if (columns == null) {
                for (int t = 0; t < visible; t++) {
                    scores[t] = Lanes.dot(q, qBase, keys, t * width + h * headDim, headDim) * scale;
                }
            } else {
                scoresFromColumns(scores, visible, q, qBase, columns, h * headDim * positions, positions, headDim, scale);
            }
            Activations.softmax(scores, 0, visible);
            // out = sum_t p_t v_t, one value row (contiguous in the head) at a time.
            int oBase = outOffset + r * outStride + h * headDim;
            Arrays.fill(out, oBase, oBase + headDim, 0f);
            for (int t = 0; t < visible; t++) {
                FloatVector p = FloatVector.broadcast(F, scores[t]);
                int vBase = t * width + h * headDim;
                int d = 0;
                for (; d + L <= headDim; d += L) {
                    FloatVector.fromArray(F, values, vBase + d).fma(p, FloatVector.fromArray(F, out, oBase + d))
                            .intoArray(out, oBase + d);
                }
                if (d < headDim) {
                    VectorMask<Float> valid = F.indexInRange(d, headDim);
                    FloatVector.fromArray(F, values, vBase + d, valid).fma(p, FloatVector.fromArray(F, out, oBase + d, valid))
                            .intoArray(out, oBase + d, valid);
                }
            }
        });
    }

    /** {@code keys[positions, width]} as {@code [width, positions]}, one head's columns per task. */
    private static float[] transpose(float[] keys, int positions, int width) {
        float[] columns = new float[width * positions];
        int block = 64;
        Parallel.forEach((width + block - 1) / block, task -> {
            int end = Math.min(width, (task + 1) * block);
            for (int t = 0; t < positions; t++) {
                for (int c = task * block; c < end; c++) columns[c * positions + t] = keys[t * width + c];
            }
        });
        return columns;
    }

    /**
     * {@code scores[t] = scale * sum_d q[d] * columns[base + d * positions + t]} for {@code t < visible}: four
     * key columns per pass over the scores, vectorised over t.
     */
    private static void scoresFromColumns(float[] scores, int visible, float[] q, int qBase, float[] columns,
                                          int base, int positions, int headDim, float scale) {
        Arrays.fill(scores, 0, visible, 0f);
        int full = visible - visible % L;
        VectorMask<Float> tail = F.indexInRange(full, visible);
        int d = 0;
        for (; d + 4 <= headDim; d += 4) {
            FloatVector q0 = FloatVector.broadcast(F, q[qBase + d] * scale);
            FloatVector q1 = FloatVector.broadcast(F, q[qBase + d + 1] * scale);
            FloatVector q2 = FloatVector.broadcast(F, q[qBase + d + 2] * scale);
            FloatVector q3 = FloatVector.broadcast(F, q[qBase + d + 3] * scale);
            int c0 = base + d * positions, c1 = c0 + positions, c2 = c1 + positions, c3 = c2 + positions;
            for (int t = 0; t < full; t += L) {
                FloatVector s = FloatVector.fromArray(F, scores, t);
                s = FloatVector.fromArray(F, columns, c0 + t).fma(q0, s);
                s = FloatVector.fromArray(F, columns, c1 + t).fma(q1, s);
                s = FloatVector.fromArray(F, columns, c2 + t).fma(q2, s);
                s = FloatVector.fromArray(F, columns, c3 + t).fma(q3, s);
                s.intoArray(scores, t);
            }
            if (full < visible) {
                FloatVector s = FloatVector.fromArray(F, scores, full, tail);
                s = FloatVector.fromArray(F, columns, c0 + full, tail).fma(q0, s);
                s = FloatVector.fromArray(F, columns, c1 + full, tail).fma(q1, s);
                s = FloatVector.fromArray(F, columns, c2 + full, tail).fma(q2, s);
                s = FloatVector.fromArray(F, columns, c3 + full, tail).fma(q3, s);
                s.intoArray(scores, full, tail);
            }
        }
        for (; d < headDim; d++) {
            FloatVector qd = FloatVector.broadcast(F, q[qBase + d] * scale);
            int c = base + d * positions;
            for (int t = 0; t < visible; t += L) {
                VectorMask<Float> valid = F.indexInRange(t, visible);
                FloatVector.fromArray(F, columns, c + t, valid).fma(qd, FloatVector.fromArray(F, scores, t, valid))
                        .intoArray(scores, t, valid);
            }
        }
    }

    /** This thread's score buffer, grown to hold at least {@code n} positions. */
    private static float[] scores(int n) {
        float[][] holder = SCORES.get();
        if (holder[0].length < n) holder[0] = new float[Math.max(n, 2 * holder[0].length)];
        return holder[0];
    }
}
