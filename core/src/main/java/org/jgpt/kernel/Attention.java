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
    /** Query rows per task: their weighted sums of values share each value load. */
    private static final int GROUP = 4;
    private static final ThreadLocal<float[][]> SCORES = ThreadLocal.withInitial(() -> new float[GROUP][1024]);
    /** A one-row call splits its positions into ranges of at least this many, one per thread. */
    private static final int MIN_RANGE = 32;
    /** Per thread: a position range's scores, head after head. */
    private static final ThreadLocal<float[]> RANGE_SCORES = ThreadLocal.withInitial(() -> new float[0]);
    /** Per calling thread: each range's softmax maxima and sums and its weighted values (see {@link #oneRow}). */
    private static final ThreadLocal<float[]> RANGE_STATE = ThreadLocal.withInitial(() -> new float[0]);

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
     * <p>One row (decoding) goes through {@link #oneRow}. Otherwise: one task per head and group of four rows,
     * vectorised over the head dimension. For many rows (prefill) the keys are first
     * transposed to {@code [width, positions]}, so that the scores of a row are a sum over the head dimension of
     * key columns, vectorised over positions, with no horizontal sum per q·k.
     */
    public static void causal(float[] out, int outOffset, int outStride, float[] q, int qOffset, int qStride,
                              float[] keys, float[] values, int rows, int start, int nHead, int headDim, float scale) {
        if (rows == 1) {
            oneRow(out, outOffset, q, qOffset, keys, values, start + 1, nHead, headDim, scale);
            return;
        }
        int width = nHead * headDim;
        int positions = start + rows;
        float[] columns = rows >= TRANSPOSE_MIN_ROWS ? transpose(keys, positions, width) : null;
        int groups = (rows + GROUP - 1) / GROUP;
        Parallel.forEach(nHead * groups, task -> {
            // Head-major, so that consecutive tasks reuse one head's keys and values from cache.
            int h = task / groups;
            int r0 = task % groups * GROUP;
            int count = Math.min(GROUP, rows - r0);
            int lastVisible = start + r0 + count;
            float[][] scores = scores(lastVisible);
            boolean grouped = columns != null && count == GROUP;
            if (grouped) {
                scoresFromColumns4(scores, lastVisible, q, qOffset + r0 * qStride + h * headDim, qStride, columns,
                        h * headDim * positions, positions, headDim, scale);
            }
            for (int j = 0; j < count; j++) {
                int r = r0 + j;
                int visible = start + r + 1;
                int qBase = qOffset + r * qStride + h * headDim;
                if (columns == null) {
                    for (int t = 0; t < visible; t++) {
                        scores[j][t] = Lanes.dot(q, qBase, keys, t * width + h * headDim, headDim) * scale;
                    }
                } else if (!grouped) {
                    scoresFromColumns(scores[j], visible, q, qBase, columns, h * headDim * positions, positions,
                            headDim, scale);
                }
                Activations.softmax(scores[j], 0, visible);
                Arrays.fill(scores[j], visible, lastVisible, 0f); // later positions get no weight
            }
            int o = outOffset + r0 * outStride + h * headDim;
            if (count == GROUP && headDim % (4 * L) == 0) {
                weightedValues4(out, o, outStride, scores, lastVisible, values, h * headDim, width, headDim);
            } else {
                for (int j = 0; j < count; j++) {
                    weightedValues(out, o + j * outStride, scores[j], start + r0 + j + 1, values, h * headDim, width,
                            headDim);
                }
            }
        });
    }

    /**
     * Attention for one query row over {@code positions} cached positions. The positions are cut into contiguous
     * ranges, one per thread, and each range streams its key rows and then its value rows once, every head of a
     * row together. (Head by head, each head's slice being a twelfth of a GPT-2 row, the cache was read in
     * strided passes: decoding at 960 positions spent 3.3 ms a token in attention, at 22 GB/s.) Each range keeps
     * its own softmax maximum and sum per head and its unnormalised weighted values; the ranges are then combined,
     * each rescaled by {@code exp(rangeMax - max)}, as in flash-decoding.
     */
    private static void oneRow(float[] out, int o, float[] q, int qBase, float[] keys, float[] values, int positions,
                               int nHead, int headDim, float scale) {
        int width = nHead * headDim;
        int ranges = Math.max(1, Math.min(Parallel.threads(), positions / MIN_RANGE));
        int stride = 2 * nHead + width; // per range: maxima, sums, weighted values
        float[] state = grown(RANGE_STATE, ranges * stride);
        Parallel.forEach(ranges, range -> {
            int t0 = (int) ((long) positions * range / ranges);
            int n = (int) ((long) positions * (range + 1) / ranges) - t0;
            float[] scores = grown(RANGE_SCORES, nHead * n);
            for (int t = 0; t < n; t++) {
                int k = (t0 + t) * width;
                for (int h = 0; h < nHead; h++) {
                    scores[h * n + t] = Lanes.dot(q, qBase + h * headDim, keys, k + h * headDim, headDim) * scale;
                }
            }
            int base = range * stride, acc = base + 2 * nHead;
            for (int h = 0; h < nHead; h++) {
                float max = Activations.max(scores, h * n, n);
                state[base + h] = max;
                state[base + nHead + h] = Activations.expShifted(scores, h * n, n, max);
            }
            Arrays.fill(state, acc, acc + width, 0f);
            for (int t = 0; t < n; t++) {
                int v = (t0 + t) * width;
                for (int h = 0; h < nHead; h++) {
                    addScaled(state, acc + h * headDim, values, v + h * headDim, scores[h * n + t], headDim);
                }
            }
        });
        for (int h = 0; h < nHead; h++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int r = 0; r < ranges; r++) max = Math.max(max, state[r * stride + h]);
            float total = 0;
            for (int r = 0; r < ranges; r++) {
                total += state[r * stride + nHead + h] * (float) Math.exp(state[r * stride + h] - max);
            }
            int at = o + h * headDim;
            Arrays.fill(out, at, at + headDim, 0f);
            for (int r = 0; r < ranges; r++) {
                float weight = (float) Math.exp(state[r * stride + h] - max) / total;
                addScaled(out, at, state, r * stride + 2 * nHead + h * headDim, weight, headDim);
            }
        }
    }

    /** {@code acc[a + d] += p * x[i + d]} for {@code d < n}. */
    private static void addScaled(float[] acc, int a, float[] x, int i, float p, int n) {
        FloatVector w = FloatVector.broadcast(F, p);
        int d = 0;
        for (; d + L <= n; d += L) {
            FloatVector.fromArray(F, x, i + d).fma(w, FloatVector.fromArray(F, acc, a + d)).intoArray(acc, a + d);
        }
        if (d < n) {
            VectorMask<Float> valid = F.indexInRange(d, n);
            FloatVector.fromArray(F, x, i + d, valid).fma(w, FloatVector.fromArray(F, acc, a + d, valid))
                    .intoArray(acc, a + d, valid);
        }
    }

    /** This thread's buffer of {@code holder}, grown to at least {@code n} floats. */
    private static float[] grown(ThreadLocal<float[]> holder, int n) {
        float[] buffer = holder.get();
        if (buffer.length < n) holder.set(buffer = new float[Math.max(n, 2 * buffer.length)]);
        return buffer;
    }

    /**
     * {@link #weightedValues} for four query rows at once (probabilities zero past each row's last position): each
     * value vector loaded feeds four rows, sixteen sums in registers.
     */
    private static void weightedValues4(float[] out, int o, int outStride, float[][] p, int visible, float[] values,
                                        int v, int width, int headDim) {
        float[] p0 = p[0], p1 = p[1], p2 = p[2], p3 = p[3];
        for (int d = 0; d < headDim; d += 4 * L) {
            FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
            FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
            FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            for (int t = 0; t < visible; t++) {
                int row = t * width + v + d;
                FloatVector v0 = FloatVector.fromArray(F, values, row);
                FloatVector v1 = FloatVector.fromArray(F, values, row + L);
                FloatVector v2 = FloatVector.fromArray(F, values, row + 2 * L);
                FloatVector v3 = FloatVector.fromArray(F, values, row + 3 * L);
                FloatVector w = FloatVector.broadcast(F, p0[t]);
                a00 = v0.fma(w, a00);
                a01 = v1.fma(w, a01);
                a02 = v2.fma(w, a02);
                a03 = v3.fma(w, a03);
                w = FloatVector.broadcast(F, p1[t]);
                a10 = v0.fma(w, a10);
                a11 = v1.fma(w, a11);
                a12 = v2.fma(w, a12);
                a13 = v3.fma(w, a13);
                w = FloatVector.broadcast(F, p2[t]);
                a20 = v0.fma(w, a20);
                a21 = v1.fma(w, a21);
                a22 = v2.fma(w, a22);
                a23 = v3.fma(w, a23);
                w = FloatVector.broadcast(F, p3[t]);
                a30 = v0.fma(w, a30);
                a31 = v1.fma(w, a31);
                a32 = v2.fma(w, a32);
                a33 = v3.fma(w, a33);
            }
            int o0 = o + d, o1 = o0 + outStride, o2 = o1 + outStride, o3 = o2 + outStride;
            a00.intoArray(out, o0);
            a01.intoArray(out, o0 + L);
            a02.intoArray(out, o0 + 2 * L);
            a03.intoArray(out, o0 + 3 * L);
            a10.intoArray(out, o1);
            a11.intoArray(out, o1 + L);
            a12.intoArray(out, o1 + 2 * L);
            a13.intoArray(out, o1 + 3 * L);
            a20.intoArray(out, o2);
            a21.intoArray(out, o2 + L);
            a22.intoArray(out, o2 + 2 * L);
            a23.intoArray(out, o2 + 3 * L);
            a30.intoArray(out, o3);
            a31.intoArray(out, o3 + L);
            a32.intoArray(out, o3 + 2 * L);
            a33.intoArray(out, o3 + 3 * L);
        }
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

    /**
     * {@link #scoresFromColumns} for four query rows at once (rows {@code qBase + j * qStride}), into
     * {@code scores[j]}: each key-column vector loaded serves the four rows. Whole vectors up to {@code visible}; lanes
     * past a row's own last position are left for the caller to ignore.
     */
    private static void scoresFromColumns4(float[][] scores, int visible, float[] q, int qBase, int qStride,
                                           float[] columns, int base, int positions, int headDim, float scale) {
        float[] s0 = scores[0], s1 = scores[1], s2 = scores[2], s3 = scores[3];
        int q0 = qBase, q1 = q0 + qStride, q2 = q1 + qStride, q3 = q2 + qStride;
        int t = 0;
        for (; t + 2 * L <= visible; t += 2 * L) {
            FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00;
            FloatVector a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            for (int d = 0; d < headDim; d++) {
                int c = base + d * positions + t;
                FloatVector k0 = FloatVector.fromArray(F, columns, c), k1 = FloatVector.fromArray(F, columns, c + L);
                FloatVector w = FloatVector.broadcast(F, q[q0 + d] * scale);
                a00 = k0.fma(w, a00);
                a01 = k1.fma(w, a01);
                w = FloatVector.broadcast(F, q[q1 + d] * scale);
                a10 = k0.fma(w, a10);
                a11 = k1.fma(w, a11);
                w = FloatVector.broadcast(F, q[q2 + d] * scale);
                a20 = k0.fma(w, a20);
                a21 = k1.fma(w, a21);
                w = FloatVector.broadcast(F, q[q3 + d] * scale);
                a30 = k0.fma(w, a30);
                a31 = k1.fma(w, a31);
            }
            a00.intoArray(s0, t);
            a01.intoArray(s0, t + L);
            a10.intoArray(s1, t);
            a11.intoArray(s1, t + L);
            a20.intoArray(s2, t);
            a21.intoArray(s2, t + L);
            a30.intoArray(s3, t);
            a31.intoArray(s3, t + L);
        }
        for (; t < visible; t += L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0; d < headDim; d++) {
                FloatVector k = FloatVector.fromArray(F, columns, base + d * positions + t);
                a0 = k.fma(FloatVector.broadcast(F, q[q0 + d] * scale), a0);
                a1 = k.fma(FloatVector.broadcast(F, q[q1 + d] * scale), a1);
                a2 = k.fma(FloatVector.broadcast(F, q[q2 + d] * scale), a2);
                a3 = k.fma(FloatVector.broadcast(F, q[q3 + d] * scale), a3);
            }
            a0.intoArray(s0, t);
            a1.intoArray(s1, t);
            a2.intoArray(s2, t);
            a3.intoArray(s3, t);
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

    /** This thread's score buffers, one per row of a group, grown to hold {@code n} positions and a vector more. */
    private static float[][] scores(int n) {
        float[][] buffers = SCORES.get();
        if (buffers[0].length < n + L) {
            for (int j = 0; j < GROUP; j++) buffers[j] = new float[Math.max(n + L, 2 * buffers[j].length)];
        }
        return buffers;
    }
}
