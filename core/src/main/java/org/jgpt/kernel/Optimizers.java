package org.jgpt.kernel;

/** Parameter updates. */
public final class Optimizers {
    private Optimizers() {}

    /**
     * One AdamW step on {@code n} parameters, with PyTorch's formula and order of operations (torch.optim.AdamW):
     * decoupled decay {@code p *= 1 - lr·wd}, moments {@code m, v}, bias corrections for 1-based {@code step}.
     */
    public static void adamw(float[] param, float[] grad, float[] m, float[] v, int n, float lr, float beta1,
                             float beta2, float eps, float weightDecay, int step) {
        float decay = 1f - lr * weightDecay;
        float stepSize = (float) (lr / (1 - Math.pow(beta1, step)));
        float correction2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
        Parallel.forEach(chunks(n), c -> {
            int end = Math.min(n, (c + 1) * CHUNK);
            for (int i = c * CHUNK; i < end; i++) {
                float g = grad[i];
                param[i] *= decay;
                m[i] = beta1 * m[i] + (1 - beta1) * g;
                v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                float denom = (float) Math.sqrt(v[i]) / correction2Sqrt + eps;
                param[i] -= stepSize * (m[i] / denom);
            }
        });
    }

    /** Sum of squares of {@code x[0, n)}, accumulated in double. */
    public static double sumOfSquares(float[] x, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += (double) x[i] * x[i];
        return sum;
    }

    /** {@code x[i] *= factor}. */
    public static void scale(float[] x, int n, float factor) {
        for (int i = 0; i < n; i++) x[i] *= factor;
    }

    private static final int CHUNK = 1 << 16;

    private static int chunks(int n) {
        return (n + CHUNK - 1) / CHUNK;
    }
}
