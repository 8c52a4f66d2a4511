package org.jgpt.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

/** Random test data, and weight tensors in every dtype stored as a checkpoint would store them. */
final class TestTensors {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TestTensors() {}

    static float[] random(Random random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian();
        return x;
    }

    /** A weight tensor and the exact float values it holds (its elements after rounding to the dtype). */
    record Weight(Tensor tensor, float[] values) {}

    /**
     * {@code values} rounded to {@code dtype} (F16: round to nearest by the JDK; BF16: truncation), little-endian,
     * in an off-heap segment that starts one byte past an aligned address, as a tensor in a mapped file may.
     */
    static Weight weight(DType dtype, float[] values, long... shape) {
        MemorySegment data = Arena.ofAuto().allocate((long) values.length * dtype.bytes + 1, 64)
                .asSlice(1, (long) values.length * dtype.bytes);
        float[] stored = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            switch (dtype) {
                case F32 -> {
                    data.set(F32, i * 4L, values[i]);
                    stored[i] = values[i];
                }
                case F16 -> {
                    short h = Float.floatToFloat16(values[i]);
                    data.set(I16, i * 2L, h);
                    stored[i] = Float.float16ToFloat(h);
                }
                case BF16 -> {
                    int bits = Float.floatToRawIntBits(values[i]);
                    data.set(I16, i * 2L, (short) (bits >>> 16));
                    stored[i] = Float.intBitsToFloat(bits & 0xffff0000);
                }
            }
        }
        return new Weight(new Tensor("test.weight", dtype, shape, data), stored);
    }
}
