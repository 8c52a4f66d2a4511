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
     * key columns, vectorised over positions, with no horizontal sum per q·k.
     */
    public static void causal(float[] out, int outOffset, int outStride, float[] q, int qOffset, int qStride,
                              float[] keys, float[] values, int rows, int start, int nHead, int headDim, float scale) {
        int width = nHead * headDim;
        int positions = start + rows;
        float[] columns = rows >= TRANSPOSE_MIN_ROWS ? transpose(keys, positions, width) : null;
        Parallel.forEach(rows * nHead, task -> {
            // Head-major, so that consecutive tasks reuse one head's keys and values from cache.
            int h = task / rows;
            int r = task % rows;
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
            weightedValues(out, outOffset + r * outStride + h * headDim, scores, visible, values, h * headDim, width,
                    headDim);
        });
    }

    /**
     * {@code out[o + d] = sum_t p[t] * values[t * width + v + d]} for {@code d < headDim}: up to four vectors of
     * the head are summed in registers over all positions, then stored once.
     */
    private static void weightedValues(float[] out, int o, float[] p, int visible, float[] values, int v, int width,
                                       int headDim) {
        int d = 0;
        for (; d + 4 * L <= headDim; d += 4 * L) {
            // Two positions per iteration into separate sums: twice the FMAs in flight of one chain per register.
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            int t = 0;
            for (; t + 2 <= visible; t += 2) {
                FloatVector pa = FloatVector.broadcast(F, p[t]), pb = FloatVector.broadcast(F, p[t + 1]);
                int ra = t * width + v + d, rb = ra + width;
                a0 = FloatVector.fromArray(F, values, ra).fma(pa, a0);
                a1 = FloatVector.fromArray(F, values, ra + L).fma(pa, a1);
                a2 = FloatVector.fromArray(F, values, ra + 2 * L).fma(pa, a2);
                a3 = FloatVector.fromArray(F, values, ra + 3 * L).fma(pa, a3);
                b0 = FloatVector.fromArray(F, values, rb).fma(pb, b0);
                b1 = FloatVector.fromArray(F, values, rb + L).fma(pb, b1);
                b2 = FloatVector.fromArray(F, values, rb + 2 * L).fma(pb, b2);
                b3 = FloatVector.fromArray(F, values, rb + 3 * L).fma(pb, b3);
            }
            if (t < visible) {
                FloatVector pa = FloatVector.broadcast(F, p[t]);
                int ra = t * width + v + d;
                a0 = FloatVector.fromArray(F, values, ra).fma(pa, a0);
                a1 = FloatVector.fromArray(F, values, ra + L).fma(pa, a1);
                a2 = FloatVector.fromArray(F, values, ra + 2 * L).fma(pa, a2);
                a3 = FloatVector.fromArray(F, values, ra + 3 * L).fma(pa, a3);
            }
            a0.add(b0).intoArray(out, o + d);
            a1.add(b1).intoArray(out, o + d + L);
            a2.add(b2).intoArray(out, o + d + 2 * L);
            a3.add(b3).intoArray(out, o + d + 3 * L);
        }
        for (; d < headDim; d += L) {
            VectorMask<Float> valid = F.indexInRange(d, headDim);
            FloatVector acc = FloatVector.zero(F);
            for (int t = 0; t < visible; t++) {
                acc = FloatVector.fromArray(F, values, t * width + v + d, valid).fma(FloatVector.broadcast(F, p[t]), acc);
            }
            acc.intoArray(out, o + d, valid);
        }
    }

    /**
     * {@code keys[positions, width]} as {@code [width, positions]}, 64 columns per task; three extra columns of
     * padding let {@link #addColumns} read whole vectors past the last one.
     */
    private static float[] transpose(float[] keys, int positions, int width) {
        float[] columns = new float[(width + 3) * positions + L];
        int block = 64;
        Parallel.forEach((width + block - 1) / block, task -> {
            int end = Math.min(width, (task + 1) * block);
            // Column by column: the writes run along a row and the strided reads hit the lines the previous column loaded.
            for (int c = task * block; c < end; c++) {
                for (int t = 0; t < positions; t++) columns[c * positions + t] = keys[t * width + c];
            }
        });
        return columns;
    }

    /**
     * {@code scores[t] = scale * sum_d q[d] * columns[base + d * positions + t]} for {@code t < visible}, vectorised
     * over t. The last vector may run past {@code visible} (into padding or the next column): those lanes are ignored.
     */
    private static void scoresFromColumns(float[] scores, int visible, float[] q, int qBase, float[] columns,
                                          int base, int positions, int headDim, float scale) {
        Arrays.fill(scores, 0, visible, 0f);
        int d = 0;
        for (; d + 4 <= headDim; d += 4) {
            addColumns(scores, visible, columns, base + d * positions, positions, q[qBase + d] * scale,
                    q[qBase + d + 1] * scale, q[qBase + d + 2] * scale, q[qBase + d + 3] * scale);
        }
        for (; d < headDim; d++) {
            addColumns(scores, visible, columns, base + d * positions, positions, q[qBase + d] * scale, 0f, 0f, 0f);
        }
    }

    /** {@code scores += q0 * column0 + .. + q3 * column3}, four consecutive key columns from {@code c}. */
    private static void addColumns(float[] scores, int visible, float[] columns, int c, int positions,
                                   float q0, float q1, float q2, float q3) {
        FloatVector w0 = FloatVector.broadcast(F, q0), w1 = FloatVector.broadcast(F, q1);
        FloatVector w2 = FloatVector.broadcast(F, q2), w3 = FloatVector.broadcast(F, q3);
        int c1 = c + positions, c2 = c1 + positions, c3 = c2 + positions;
        for (int t = 0; t < visible; t += L) {
            FloatVector s = FloatVector.fromArray(F, scores, t);
            s = FloatVector.fromArray(F, columns, c + t).fma(w0, s);
            s = FloatVector.fromArray(F, columns, c1 + t).fma(w1, s);
            s = FloatVector.fromArray(F, columns, c2 + t).fma(w2, s);
            s = FloatVector.fromArray(F, columns, c3 + t).fma(w3, s);
            s.intoArray(scores, t);
        }
    }

    /** This thread's score buffer, grown to hold at least {@code n} positions and a vector more. */
    private static float[] scores(int n) {
        float[][] holder = SCORES.get();
        if (holder[0].length < n + L) holder[0] = new float[Math.max(n + L, 2 * holder[0].length)];
        return holder[0];
    }
}
