package org.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Token plus position embedding lookup. */
public final class Embedding {
    private static final VectorSpecies<Float> F = Lanes.FLOATS;
    private static final int L = Lanes.LENGTH;

    private Embedding() {}

    /** {@code out[i] = wte[tokens[i]] + wpe[positions[i]]}, rows of {@code dim}; wte is [vocab, dim], wpe [context, dim]. */
    public static void forward(float[] out, int[] tokens, int[] positions, Tensor wte, Tensor wpe, int count, int dim) {
        long vocab = wte.size() / dim;
        long context = wpe.size() / dim;
        for (int i = 0; i < count; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocab) {
                throw new IllegalArgumentException("token id " + tokens[i] + " outside " + wte + " (vocabulary " + vocab + ")");
            }
            if (positions[i] < 0 || positions[i] >= context) {
                throw new IllegalArgumentException("position " + positions[i] + " outside " + wpe + " (context " + context + ")");
            }
            long t = (long) tokens[i] * dim;
            long p = (long) positions[i] * dim;
            for (int d = 0; d < dim; d += L) {
                int n = Math.min(L, dim - d);
                FloatVector e = n == L ? Lanes.load(wte, t + d).add(Lanes.load(wpe, p + d))
                        : Lanes.loadPartial(wte, t + d, n).add(Lanes.loadPartial(wpe, p + d, n));
                e.intoArray(out, i * dim + d, F.indexInRange(0, n));
            }
        }
    }
}
