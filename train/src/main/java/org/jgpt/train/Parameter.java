package org.jgpt.train;

import org.jgpt.kernel.Tensor;

/** A parameter tensor being trained: its values, its gradient, and whether it is a matrix (weight decay applies). */
public record Parameter(String name, long[] shape, float[] value, float[] grad, boolean matrix) {
    public Parameter(String name, long... shape) {
        this(name, shape, new float[size(shape)], new float[size(shape)], shape.length == 2);
    }

    /**
     * Whether it is an embedding table (tokens, positions or token types), which {@code --no-decay-embeddings}
     * exempts from weight decay: GPT-2's wte and wpe, GPT-1's tokens_embed and positions_embed, and the BERT family's
     * {@code *.embeddings.*_embeddings.weight} (RoBERTa, ELECTRA, the permutation encoder).
     */
    public boolean embedding() {
        return name.equals("wte.weight") || name.equals("wpe.weight")
                || name.equals("tokens_embed.weight") || name.equals("positions_embed.weight")
                || name.matches(".*\\.embeddings\\.\\w+_embeddings\\.weight");
    }

    /** A view of the values, not a copy. */
    public Tensor tensor() {
        return Tensor.of(name, value, shape);
    }

    /** Copies in the values of a tensor of the same size (any dtype). */
    public void copyFrom(Tensor from) {
        if (from.size() != value.length) {
            throw new IllegalArgumentException(from.name() + " has " + from.size() + " values, " + name + " needs " + value.length);
        }
        for (int i = 0; i < value.length; i++) value[i] = from.get(i);
    }

    private static int size(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return Math.toIntExact(n);
    }
}
