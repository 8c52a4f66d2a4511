package org.jgpt.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A read-only, row-major tensor over a memory segment: a memory-mapped checkpoint region or a heap array.
 * Elements are little-endian, as in safetensors and PyTorch files.
 */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data) {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int CHECK_CHUNK = 1 << 14;
    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;

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

    /**
     * The flat index of the first NaN or infinite element, or -1 when every element is finite. It tests the raw bits
     * (an exponent of all ones) of a chunk at a time, bulk-copied to an array: plain array loops compile at once,
     * where a vector loop over a mapped segment runs interpreted for its first second, longer than a load takes.
     */
    public long firstNonFinite() {
        if (dtype == DType.I8) return -1; // integers are always finite
        long n = size();
        int[] words = dtype == DType.F32 ? new int[CHECK_CHUNK] : null;
        short[] halves = dtype == DType.F32 ? null : new short[CHECK_CHUNK];
        short exponent = (short) (dtype == DType.F16 ? 0x7C00 : 0x7F80);
        for (long start = 0; start < n; start += CHECK_CHUNK) {
            int count = (int) Math.min(CHECK_CHUNK, n - start);
            int at;
            if (words != null) {
                MemorySegment.copy(data, I32, start * 4, words, 0, count);
                at = firstAllOnes(words, count);
            } else {
                MemorySegment.copy(data, I16, start * 2, halves, 0, count);
                at = firstAllOnes(halves, count, exponent);
            }
            if (at >= 0) return start + at;
        }
        return -1;
    }

    private static int firstAllOnes(int[] bits, int count) {
        for (int i = 0; i < count; i++) if ((bits[i] & 0x7F800000) == 0x7F800000) return i;
        return -1;
    }

    private static int firstAllOnes(short[] bits, int count, short exponent) {
        for (int i = 0; i < count; i++) if ((bits[i] & exponent) == exponent) return i;
        return -1;
    }

    /**
     * Whether {@code x[from, to)} holds no NaN and no infinity: each element times zero is NaN exactly then, and a
     * NaN survives any sum, so one vector pass answers it.
     */
    public static boolean allFinite(float[] x, int from, int to) {
        FloatVector zeros = FloatVector.zero(FLOATS), acc = zeros;
        int i = from;
        for (; i + FLOATS.length() <= to; i += FLOATS.length()) acc = FloatVector.fromArray(FLOATS, x, i).fma(zeros, acc);
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) sum += x[i] * 0f;
        return sum == 0f;
    }

    /**
     * Fails naming {@code where} (a layer, the logits) when {@code values[0, count)} holds a NaN or an infinity: from
     * there on every output would be NaN, which prints as null scores or samples token 0, so the error says where it
     * began. Weights are checked at load; this catches what they cause, e.g. activations that overflow. A pass over
     * n_embd floats per token and layer, next to the matrix products' n_embd² multiply-adds.
     */
    public static void requireFinite(float[] values, int count, String where) {
        if (!allFinite(values, 0, count)) {
            throw new ArithmeticException("the forward pass went NaN or infinite in " + where
                    + ", though the weights are finite: the activations overflowed float32");
        }
    }

    /** {@code [i, j, ...]}: the position of flat index {@code index} in this tensor's shape. */
    public String position(long index) {
        long[] at = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            at[d] = index % shape[d];
            index /= shape[d];
        }
        return Arrays.toString(at);
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
