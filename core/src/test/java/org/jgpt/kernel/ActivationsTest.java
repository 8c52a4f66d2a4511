package org.jgpt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** GELU, add and softmax against double-precision formulas. */
class ActivationsTest {
    @Test
    void geluMatchesTanhFormulaToAMillionth() {
        Random random = new Random(6);
        // Sizes around the vector length and the parallel chunk (2^14); values over the range activations reach.
        for (int n : new int[] {1, 15, 17, 1000, 40_000}) {
            float[] in = new float[n];
            for (int i = 0; i < n; i++) in[i] = (float) (random.nextGaussian() * 4);
            if (n > 10) {
                in[0] = 0f;
                in[1] = -30f;
                in[2] = 30f;
                in[3] = -1e-7f;
            }
            float[] out = new float[n];
            Activations.gelu(out, in, n);
            for (int i = 0; i < n; i++) {
                double x = in[i];
                double expected = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
                // 1e-6 relative; the 1e-9 absolute floor covers the far negative tail, where the float rounding of u
                // alone moves exp(-2u), and so gelu, by a few millionths of a value below 1e-6.
                assertEquals(expected, out[i], 1e-6 * Math.abs(expected) + 1e-9, "gelu(" + x + ")");
            }
        }
    }

    @Test
    void exactGeluAndItsGradientMatchTheNormalCdf() {
        Random random = new Random(8);
        int n = 40_000;
        float[] in = new float[n];
        for (int i = 0; i < n; i++) in[i] = (float) (random.nextGaussian() * 4);
        in[0] = 0f;
        in[1] = -12f;
        in[2] = 12f;
        float[] out = new float[n];
        float[] dOut = new float[n];
        java.util.Arrays.fill(dOut, 1f);
        float[] dIn = new float[n];
        Activations.geluErf(out, in, n);
        Backprop.geluErfBackward(dIn, in, dOut, n);
        for (int i = 0; i < n; i++) {
            double x = in[i];
            double cdf = normalCdf(x);
            double pdf = Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
            // erf is approximated within 1.5e-7 (Abramowitz-Stegun 7.1.26), so Φ within 7.5e-8 and x·Φ(x) within
            // |x| · 7.5e-8; 1e-6 relative allows for float rounding on top.
            double tolerance = 1e-7 * Math.abs(x) + 1e-6 * Math.abs(x * cdf) + 1e-9;
            assertEquals(x * cdf, out[i], tolerance, "gelu(" + x + ")");
            assertEquals(cdf + x * pdf, dIn[i], 1e-7 * (1 + Math.abs(x)) + 1e-6, "gelu'(" + x + ")");
        }
    }

    /** Φ(x) by the Taylor series of erf in double precision, exact to 1e-15 for |x| ≤ 6; 0 or 1 beyond. */
    private static double normalCdf(double x) {
        if (Math.abs(x) > 6) return x > 0 ? 1 : 0;
        double z = x / Math.sqrt(2);
        double term = z;
        double sum = z;
        for (int k = 1; k < 200; k++) {
            term *= -z * z / k;
            sum += term / (2 * k + 1);
        }
        return 0.5 * (1 + 2 / Math.sqrt(Math.PI) * sum);
    }

    @Test
    void geluMayWorkInPlace() {
        float[] x = {-2f, -0.5f, 0f, 0.5f, 2f};
        float[] expected = new float[5];
        Activations.gelu(expected, x, 5);
        Activations.gelu(x, x, 5);
        for (int i = 0; i < 5; i++) assertEquals(expected[i], x[i], 0f);
    }

    @Test
    void addIsElementwiseOnPrefix() {
        float[] acc = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19};
        float[] x = new float[19];
        java.util.Arrays.fill(x, 0.5f);
        Activations.add(acc, x, 18);
        for (int i = 0; i < 18; i++) assertEquals(i + 1.5f, acc[i], 0f);
        assertEquals(19f, acc[18], 0f, "element past n untouched");
    }

    @Test
    void softmaxMatchesDoubleReferenceAndLeavesTheRestAlone() {
        Random random = new Random(7);
        for (int n : new int[] {1, 5, 16, 31, 1024}) {
            float[] x = new float[n + 6];
            for (int i = 0; i < x.length; i++) x[i] = (float) (random.nextGaussian() * 10);
            x[3] = 80f; // exp(80) overflows float without the shift by the maximum
            float[] original = x.clone();
            Activations.softmax(x, 3, n);
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < n; i++) max = Math.max(max, original[3 + i]);
            for (int i = 0; i < n; i++) sum += Math.exp(original[3 + i] - max);
            for (int i = 0; i < n; i++) {
                double expected = Math.exp(original[3 + i] - max) / sum;
                assertEquals(expected, x[3 + i], 1e-6 * expected + 1e-9, "n=" + n + " element " + i);
            }
            for (int i = 0; i < 3; i++) assertEquals(original[i], x[i], 0f, "before offset");
            for (int i = 3 + n; i < x.length; i++) assertEquals(original[i], x[i], 0f, "after the range");
        }
    }
}
