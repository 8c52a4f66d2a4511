package org.jgpt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Backprop.maskedAttentionForward and Backward against a plain double-precision implementation: queries from one
 * packed [R, 3C] array, keys and values from another (XLNet's query stream over the content stream), a random
 * visibility mask with one query that sees nothing, with and without a dropout mask on the probabilities. The
 * gradients are checked column by column: q only in dQueries, k and v only in dKeysValues.
 */
class MaskedAttentionTest {
    private static final int BATCH = 2, SEQ = 5, DIM = 8, HEADS = 2, HEAD_DIM = DIM / HEADS;
    private static final float SCALE = 0.5f;

    @Test
    void matchesDoublePrecisionWithoutDropout() {
        check(false);
    }

    @Test
    void matchesDoublePrecisionWithDropout() {
        check(true);
    }

    private static void check(boolean withDropout) {
        Random random = new Random(7);
        int rows = BATCH * SEQ;
        float[] queries = randoms(random, rows * 3 * DIM);
        float[] keysValues = randoms(random, rows * 3 * DIM);
        float[] dOut = randoms(random, rows * DIM);
        boolean[] visible = new boolean[BATCH * SEQ * SEQ];
        for (int i = 0; i < visible.length; i++) visible[i] = random.nextDouble() < 0.6;
        for (int u = 0; u < SEQ; u++) visible[(SEQ + 2) * SEQ + u] = false; // sequence 1, query 2 sees nothing
        float[] dropout = null;
        if (withDropout) {
            dropout = new float[BATCH * HEADS * SEQ * SEQ];
            for (int i = 0; i < dropout.length; i++) dropout[i] = random.nextDouble() < 0.2 ? 0f : 1.25f;
        }

        float[] out = new float[rows * DIM];
        float[] att = new float[BATCH * HEADS * SEQ * SEQ];
        Backprop.maskedAttentionForward(out, att, dropout, queries, keysValues, visible, BATCH, SEQ, DIM, HEADS, SCALE);
        float[] dQueries = new float[rows * 3 * DIM];
        float[] dKeysValues = new float[rows * 3 * DIM];
        Backprop.maskedAttentionBackward(dQueries, dKeysValues, dOut, queries, keysValues, att, dropout, visible,
                BATCH, SEQ, DIM, HEADS, SCALE);

        double[] expectedOut = new double[rows * DIM];
        double[] expectedDq = new double[rows * 3 * DIM];
        double[] expectedDkv = new double[rows * 3 * DIM];
        reference(queries, keysValues, visible, dropout, dOut, expectedOut, expectedDq, expectedDkv);
        assertClose(expectedOut, out, "out");
        assertClose(expectedDq, dQueries, "dQueries");
        assertClose(expectedDkv, dKeysValues, "dKeysValues");
    }

    /** Softmax over the visible keys of q·k·scale, (dropout ×) probabilities times v, and its gradients, in doubles. */
    private static void reference(float[] queries, float[] kv, boolean[] visible, float[] dropout, float[] dOut,
                                  double[] out, double[] dq, double[] dkv) {
        for (int b = 0; b < BATCH; b++) {
            for (int h = 0; h < HEADS; h++) {
                for (int t = 0; t < SEQ; t++) {
                    int qBase = (b * SEQ + t) * 3 * DIM + h * HEAD_DIM;
                    double[] p = new double[SEQ];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u < SEQ; u++) {
                        if (!visible[(b * SEQ + t) * SEQ + u]) continue;
                        int kBase = (b * SEQ + u) * 3 * DIM + DIM + h * HEAD_DIM;
                        double score = 0;
                        for (int d = 0; d < HEAD_DIM; d++) score += (double) queries[qBase + d] * kv[kBase + d];
                        p[u] = score * SCALE;
                        max = Math.max(max, p[u]);
                    }
                    if (max == Double.NEGATIVE_INFINITY) continue; // sees nothing: zero output, zero gradient
                    double sum = 0;
                    for (int u = 0; u < SEQ; u++) {
                        p[u] = visible[(b * SEQ + t) * SEQ + u] ? Math.exp(p[u] - max) : 0;
                        sum += p[u];
                    }
                    double[] keep = new double[SEQ];
                    double[] dP = new double[SEQ];
                    int outBase = (b * SEQ + t) * DIM + h * HEAD_DIM;
                    for (int u = 0; u < SEQ; u++) {
                        p[u] /= sum;
                        keep[u] = dropout == null ? 1 : dropout[((b * HEADS + h) * SEQ + t) * SEQ + u];
                        int vBase = (b * SEQ + u) * 3 * DIM + 2 * DIM + h * HEAD_DIM;
                        for (int d = 0; d < HEAD_DIM; d++) {
                            out[outBase + d] += p[u] * keep[u] * kv[vBase + d];
                            dkv[vBase + d] += p[u] * keep[u] * dOut[outBase + d];
                            dP[u] += keep[u] * dOut[outBase + d] * kv[vBase + d];
                        }
                    }
                    double weighted = 0;
                    for (int u = 0; u < SEQ; u++) weighted += p[u] * dP[u];
                    for (int u = 0; u < SEQ; u++) {
                        double dScore = p[u] * (dP[u] - weighted) * SCALE;
                        int kBase = (b * SEQ + u) * 3 * DIM + DIM + h * HEAD_DIM;
                        for (int d = 0; d < HEAD_DIM; d++) {
                            dq[qBase + d] += dScore * kv[kBase + d];
                            dkv[kBase + d] += dScore * queries[qBase + d];
                        }
                    }
                }
            }
        }
    }

    private static float[] randoms(Random random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian();
        return x;
    }

    private static void assertClose(double[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5 + 1e-4 * Math.abs(expected[i]), what + "[" + i + "]");
        }
    }
}
