package org.jgpt.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.jgpt.kernel.DType;
import org.jgpt.kernel.Tensor;

/** Deterministic benchmark operands. */
final class BenchData {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BenchData() {}

    /** Values in [-0.5, 0.5) from a multiplicative hash: fast to make, no structure a kernel could exploit. */
    static float value(long i, int seed) {
        long h = (i + 1) * 0x9E3779B97F4A7C15L + seed * 0xBF58476D1CE4E5B9L;
        return ((h >>> 40) & 0xffff) / 65536f - 0.5f;
    }

    static float[] floats(int n, int seed) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = value(i, seed);
        return x;
    }

    /** {@code values} in {@code dtype}, off-heap like a memory-mapped checkpoint. */
    static Tensor tensor(DType dtype, float[] values, long... shape) {
        MemorySegment data = Arena.ofAuto().allocate((long) values.length * dtype.bytes, 64);
        for (int i = 0; i < values.length; i++) put(data, dtype, i, values[i]);
        return new Tensor("bench", dtype, shape, data);
    }

    /** A {@code [rows, cols]} tensor of hash values in {@code dtype}, off-heap. */
    static Tensor tensor(Arena arena, DType dtype, int seed, int rows, int cols) {
        long count = (long) rows * cols;
        MemorySegment data = arena.allocate(count * dtype.bytes, 64);
        for (long i = 0; i < count; i++) put(data, dtype, i, value(i, seed));
        return new Tensor("bench", dtype, new long[] {rows, cols}, data);
    }

    private static void put(MemorySegment data, DType dtype, long i, float v) {
        switch (dtype) {
            case F32 -> data.set(F32, i * 4, v);
            case F16 -> data.set(I16, i * 2, Float.floatToFloat16(v));
            case BF16 -> data.set(I16, i * 2, (short) (Float.floatToRawIntBits(v) >>> 16));
        }
    }
}
