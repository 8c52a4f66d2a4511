package org.jgpt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Causal attention against a naive double-precision loop, for prefill (start 0, many rows), decoding (one row
 * late in the cache, its positions split into ranges over the threads when there are 64 or more) and chunks in between, on both sides of the row count from which the keys get transposed,
 * in groups of four rows and remainders, with strided/offset q and out, and head sizes that are not a multiple
 * of the vector length.
 * Tolerance 1e-5 absolute (outputs are convex mixes of values of order 1).
 */
class AttentionTest {
    @Test
    void causalMatchesNaiveLoop() {
        Random random = new Random(8);
        int[][] cases = { // rows, start, nHead, headDim
            {9, 0, 3, 16}, {1, 40, 2, 64}, {5, 11, 4, 20}, {1, 0, 1, 7}, {17, 3, 12, 64}, {40, 7, 2, 19}, {8, 0, 1, 3},
            {12, 30, 2, 128}, {1, 63, 12, 64}, {1, 200, 3, 20}, {1, 1000, 2, 16}};
        for (int[] c : cases) {
            int rows = c[0], start = c[1], nHead = c[2], headDim = c[3], width = nHead * headDim;
            int capacity = start + rows + 2;
            float[] keys = TestTensors.random(random, capacity * width);
            float[] values = TestTensors.random(random, capacity * width);
            int qOffset = 5, qStride = 3 * width, outOffset = 2, outStride = width + 3;
            float[] q = TestTensors.random(random, qOffset + rows * qStride);
            float[] out = new float[outOffset + rows * outStride];
            float scale = (float) (1 / Math.sqrt(headDim));
            Attention.causal(out, outOffset, outStride, q, qOffset, qStride, keys, values, rows, start, nHead,
                    headDim, scale);
            for (int r = 0; r < rows; r++) {
                for (int h = 0; h < nHead; h++) {
                    int visible = start + r + 1;
                    double[] p = new double[visible];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int t = 0; t < visible; t++) {
                        for (int d = 0; d < headDim; d++) {
                            p[t] += (double) q[qOffset + r * qStride + h * headDim + d] * keys[t * width + h * headDim + d];
                        }
                        p[t] *= scale;
                        max = Math.max(max, p[t]);
                    }
                    for (int t = 0; t < visible; t++) sum += p[t] = Math.exp(p[t] - max);
                    for (int d = 0; d < headDim; d++) {
                        double expected = 0;
                        for (int t = 0; t < visible; t++) expected += p[t] / sum * values[t * width + h * headDim + d];
                        assertEquals(expected, out[outOffset + r * outStride + h * headDim + d], 1e-5,
                                "case " + java.util.Arrays.toString(c) + " row " + r + " head " + h + " dim " + d);
                    }
                }
            }
        }
    }
}
