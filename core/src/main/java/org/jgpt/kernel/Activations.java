package org.jgpt.kernel;

/** Element-wise activations and vector arithmetic. */
public final class Activations {
    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);

    private Activations() {}

    /** GPT-2's tanh approximation of GELU ("gelu_new"), {@code out[i] = gelu(in[i])}; {@code out} may be {@code in}. */
    public static void gelu(float[] out, float[] in, int n) {
        for (int i = 0; i < n; i++) {
            float x = in[i];
            out[i] = 0.5f * x * (1f + (float) Math.tanh(SQRT_2_OVER_PI * (x + 0.044715f * x * x * x)));
        }
    }

    /** {@code acc[i] += x[i]} for the first {@code n} elements. */
    public static void add(float[] acc, float[] x, int n) {
        for (int i = 0; i < n; i++) acc[i] += x[i];
    }

    /** In-place softmax of {@code x[offset, offset + n)}. */
    public static void softmax(float[] x, int offset, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[offset + i]);
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[offset + i] - max);
            x[offset + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < n; i++) x[offset + i] *= inv;
    }
}
