package org.jgpt.kernel;

/** LayerNorm over the last dimension. */
public final class Norms {
    private Norms() {}

    /** {@code out[r] = (in[r] - mean) / sqrt(var + eps) * gamma + beta} for each of {@code rows} rows of {@code dim}. */
    public static void layerNorm(float[] out, float[] in, float[] gamma, float[] beta, int rows, int dim, float eps) {
        Parallel.forEach(rows, r -> {
            int base = r * dim;
            double mean = 0;
            for (int i = 0; i < dim; i++) mean += in[base + i];
            mean /= dim;
            double var = 0;
            for (int i = 0; i < dim; i++) {
                double d = in[base + i] - mean;
                var += d * d;
            }
            var /= dim;
            float rstd = (float) (1.0 / Math.sqrt(var + eps));
            for (int i = 0; i < dim; i++) {
                out[base + i] = (float) (in[base + i] - mean) * rstd * gamma[i] + beta[i];
            }
        });
    }
}
