package org.jgpt.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A read-only, row-major tensor over a memory segment: a memory-mapped checkpoint region or a heap array.
 * Elements are little-endian, as in safetensors and PyTorch files.
 */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data) {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public Tensor {
        shape = shape.clone();
        long expected = Math.multiplyExact(elementCount(shape), dtype.bytes);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor " + name + ": " + data.byteSize() + " bytes for shape "
                    + Arrays.toString(shape) + " of " + dtype + " (expected " + expected + ")");
        }
    }

    /** An F32 tensor over a copy-free view of a heap array. */
    public static Tensor of(String name, float[] values, long... shape) {
        return new Tensor(name, DType.F32, shape, MemorySegment.ofArray(values));
    }

    private static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /** Number of elements. */
    public long size() {
        return elementCount(shape);
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}, as an int. */
    public int dim(int i) {
        return Math.toIntExact(shape[i]);
    }

    /** Element {@code i} of the flattened tensor, widened to float (for I8, the integer itself). */
    public float get(long i) {
        return switch (dtype) {
            case F32 -> data.get(F32, i * 4);
            case F16 -> Float.float16ToFloat(data.get(I16, i * 2));
            case BF16 -> Float.intBitsToFloat(data.get(I16, i * 2) << 16);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
        };
    }

    /** All elements as a new float array. */
    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(size())];
        for (int i = 0; i < out.length; i++) out[i] = get(i);
        return out;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }
}
