package org.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
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

    /** {@link #forward} with a Q8_0 token embedding ([vocab, dim]): each looked-up row is dequantized. */
    public static void forward(float[] out, int[] tokens, int[] positions, Q8Matrix wte, Tensor wpe, int count, int dim) {
        long context = wpe.size() / dim;
        for (int i = 0; i < count; i++) {
            if (tokens[i] < 0 || tokens[i] >= wte.outDim()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " outside " + wte + " (vocabulary " + wte.outDim() + ")");
            }
            if (positions[i] < 0 || positions[i] >= context) {
                throw new IllegalArgumentException("position " + positions[i] + " outside " + wpe + " (context " + context + ")");
            }
            wte.dequantizeRow(tokens[i], out, i * dim);
            long p = (long) positions[i] * dim;
            for (int d = 0; d < dim; d += L) {
                int n = Math.min(L, dim - d);
                VectorMask<Float> valid = F.indexInRange(0, n);
                FloatVector e = FloatVector.fromArray(F, out, i * dim + d, valid);
                e.add(n == L ? Lanes.load(wpe, p + d) : Lanes.loadPartial(wpe, p + d, n)).intoArray(out, i * dim + d, valid);
            }
        }
    }
}
