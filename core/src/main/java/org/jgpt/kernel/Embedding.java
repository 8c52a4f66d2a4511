package org.jgpt.kernel;

/** Token plus position embedding lookup. */
public final class Embedding {
    private Embedding() {}

    /** {@code out[i] = wte[tokens[i]] + wpe[positions[i]]}, rows of {@code dim}; wte is [vocab, dim], wpe [context, dim]. */
    public static void forward(float[] out, int[] tokens, int[] positions, Tensor wte, Tensor wpe, int count, int dim) {
        for (int i = 0; i < count; i++) {
            long t = (long) tokens[i] * dim;
            long p = (long) positions[i] * dim;
            for (int d = 0; d < dim; d++) out[i * dim + d] = wte.get(t + d) + wpe.get(p + d);
        }
    }
}
