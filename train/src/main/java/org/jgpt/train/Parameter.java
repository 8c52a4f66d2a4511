package org.jgpt.train;

import org.jgpt.kernel.Tensor;

/** A parameter tensor being trained: its values, its gradient, and whether it is a matrix (weight decay applies). */
public record Parameter(String name, long[] shape, float[] value, float[] grad, boolean matrix) {
    public Parameter(String name, long... shape) {
        this(name, shape, new float[size(shape)], new float[size(shape)], shape.length == 2);
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
