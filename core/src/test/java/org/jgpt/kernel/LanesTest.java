package org.jgpt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The vectorised F16 and BF16 widening against the JDK's scalar conversions, over every 16-bit pattern. */
class LanesTest {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void widensEveryF16AndBf16BitPattern() {
        int n = 1 << 16;
        MemorySegment bits = MemorySegment.ofArray(new byte[2 * n + 1]).asSlice(1); // unaligned, as a mapped file may be
        for (int i = 0; i < n; i++) bits.set(I16, 2L * i, (short) i);
        Tensor f16 = new Tensor("f16", DType.F16, new long[] {n}, bits);
        Tensor bf16 = new Tensor("bf16", DType.BF16, new long[] {n}, bits);
        float[] lanes = new float[Lanes.LENGTH];
        for (int i = 0; i < n; i += Lanes.LENGTH) {
            Lanes.load(f16, i).intoArray(lanes, 0);
            for (int j = 0; j < Lanes.LENGTH; j++) {
                float expected = Float.float16ToFloat((short) (i + j));
                String what = "F16 0x" + Integer.toHexString(i + j);
                if (Float.isNaN(expected)) assertTrue(Float.isNaN(lanes[j]), what);
                else assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(lanes[j]), what);
            }
            Lanes.load(bf16, i).intoArray(lanes, 0);
            for (int j = 0; j < Lanes.LENGTH; j++) {
                assertEquals((i + j) << 16, Float.floatToRawIntBits(lanes[j]), "BF16 0x" + Integer.toHexString(i + j));
            }
        }
    }
}
