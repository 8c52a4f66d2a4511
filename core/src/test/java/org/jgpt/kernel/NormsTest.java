package org.jgpt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** LayerNorm against a two-pass double-precision loop (biased variance, eps inside the root, as PyTorch). */
class NormsTest {
    @Test
    void layerNormMatchesDoubleReference() {
        Random random = new Random(5);
        float eps = 1e-5f;
        for (int rows : new int[] {1, 3, 64}) {
            for (int dim : new int[] {1, 7, 16, 33, 768}) {
                float[] in = TestTensors.random(random, rows * dim);
                for (int i = 0; i < in.length; i++) in[i] = in[i] * 3 + 10; // offset mean, as residual streams have
                float[] gamma = TestTensors.random(random, dim), beta = TestTensors.random(random, dim);
                float[] out = new float[rows * dim];
                Norms.layerNorm(out, in, gamma, beta, rows, dim, eps);
                for (int r = 0; r < rows; r++) {
                    double mean = 0, var = 0;
                    for (int i = 0; i < dim; i++) mean += in[r * dim + i];
                    mean /= dim;
                    for (int i = 0; i < dim; i++) var += Math.pow(in[r * dim + i] - mean, 2);
                    var /= dim;
                    for (int i = 0; i < dim; i++) {
                        double expected = (in[r * dim + i] - mean) / Math.sqrt(var + eps) * gamma[i] + beta[i];
                        assertEquals(expected, out[r * dim + i], 2e-5 * (1 + Math.abs(expected)),
                                rows + "x" + dim + " at [" + r + "," + i + "]");
                    }
                }
            }
        }
    }

    @Test
    void layerNormOfConstantRowIsBeta() {
        float[] in = new float[19];
        java.util.Arrays.fill(in, 4.25f);
        float[] gamma = new float[19], beta = new float[19], out = new float[19];
        java.util.Arrays.fill(gamma, 2f);
        for (int i = 0; i < 19; i++) beta[i] = i;
        Norms.layerNorm(out, in, gamma, beta, 1, 19, 1e-5f);
        for (int i = 0; i < 19; i++) assertEquals(i, out[i], 0f, "element " + i);
    }
}
