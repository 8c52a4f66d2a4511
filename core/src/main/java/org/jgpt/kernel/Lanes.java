package org.jgpt.kernel;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** The float vector shape every kernel uses, and loads that widen F16/BF16 tensor elements to float lanes. */
final class Lanes {
    static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    static final int LENGTH = FLOATS.length();
    /** Half-width shorts: one short vector widens to exactly one float vector. */
    private static final VectorSpecies<Short> SHORTS =
            VectorSpecies.of(short.class, VectorShape.forBitSize(FLOATS.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private Lanes() {}

    /** {@code LENGTH} elements of {@code t} from flat index {@code i}, widened to float. */
    static FloatVector load(Tensor t, long i) {
        return load(t.dtype(), t.data(), i);
    }

    /** Like {@link #load} for the first {@code count < LENGTH} lanes; the rest are zero. */
    static FloatVector loadPartial(Tensor t, long i, int count) {
        return loadPartial(t.dtype(), t.data(), i, count);
    }

    /**
     * {@code LENGTH} elements of type {@code type} from element index {@code i} of {@code data}, widened to float.
     * Streaming loops pass one segment per weight row and index it by their own counter, so that the JIT hoists the
     * bounds check out of the loop; into one large segment it stays in the loop and costs over a tenth of the bandwidth.
     */
    static FloatVector load(DType type, MemorySegment data, long i) {
        return switch (type) {
            case F32 -> FloatVector.fromMemorySegment(FLOATS, data, i * 4, LE);
            case BF16 -> bf16(ShortVector.fromMemorySegment(SHORTS, data, i * 2, LE));
            case F16 -> f16(ShortVector.fromMemorySegment(SHORTS, data, i * 2, LE));
            case I8 -> throw quants();
        };
    }

    /** Like {@link #load(DType, MemorySegment, long)} for the first {@code count < LENGTH} lanes; the rest are zero. */
    static FloatVector loadPartial(DType type, MemorySegment data, long i, int count) {
        return switch (type) {
            case F32 -> FloatVector.fromMemorySegment(FLOATS, data, i * 4, LE, FLOATS.indexInRange(0, count));
            case BF16 -> bf16(ShortVector.fromMemorySegment(SHORTS, data, i * 2, LE, SHORTS.indexInRange(0, count)));
            case F16 -> f16(ShortVector.fromMemorySegment(SHORTS, data, i * 2, LE, SHORTS.indexInRange(0, count)));
            case I8 -> throw quants();
        };
    }

    private static IllegalArgumentException quants() {
        return new IllegalArgumentException("I8 tensors are Q8_0 quants without their scales: read them through Q8Matrix");
    }

    /** BF16 is the top half of an F32: widen and shift into place. */
    private static FloatVector bf16(ShortVector bits) {
        return ((IntVector) bits.convertShape(VectorOperators.S2I, INTS, 0))
                .lanewise(VectorOperators.LSHL, 16)
                .reinterpretAsFloats();
    }

    /**
     * F16 to F32 by bit manipulation. Sign-extended to an int and shifted left by 13, the half's exponent and
     * mantissa sit where an F32's do and the sign is still bit 31; masking off the three sign copies between
     * them gives a float 2^112 too small (the exponent biases differ by 127 - 15), which one multiply fixes for
     * normals and subnormals alike. A half with the all-ones exponent (infinity, NaN) then gets the F32 all-ones
     * exponent ORed in: adding one to its exponent field carries into bit 28, which is spread into a mask.
     */
    private static FloatVector f16(ShortVector bits) {
        IntVector shifted = ((IntVector) bits.convertShape(VectorOperators.S2I, INTS, 0))
                .lanewise(VectorOperators.LSHL, 13).and(0x8fffe000);
        IntVector value = shifted.reinterpretAsFloats().mul(0x1.0p112f).reinterpretAsInts();
        IntVector special = shifted.and(0x0f800000).add(0x00800000)
                .lanewise(VectorOperators.LSHL, 3).lanewise(VectorOperators.ASHR, 31).and(0x7f800000);
        return value.or(special).reinterpretAsFloats();
    }

    /** {@code sum_i x[xOffset + i] * y[yOffset + i]} over {@code n} elements, accumulated in float lanes. */
    static float dot(float[] x, int xOffset, float[] y, int yOffset, int n) {
        FloatVector acc0 = FloatVector.zero(FLOATS), acc1 = FloatVector.zero(FLOATS);
        int i = 0;
        for (; i + 2 * LENGTH <= n; i += 2 * LENGTH) {
            acc0 = FloatVector.fromArray(FLOATS, x, xOffset + i).fma(FloatVector.fromArray(FLOATS, y, yOffset + i), acc0);
            acc1 = FloatVector.fromArray(FLOATS, x, xOffset + i + LENGTH)
                    .fma(FloatVector.fromArray(FLOATS, y, yOffset + i + LENGTH), acc1);
        }
        for (; i < n; i += LENGTH) {
            VectorMask<Float> valid = FLOATS.indexInRange(i, n);
            acc0 = FloatVector.fromArray(FLOATS, x, xOffset + i, valid)
                    .fma(FloatVector.fromArray(FLOATS, y, yOffset + i, valid), acc0);
        }
        return VectorMath.sum(acc0.add(acc1));
    }
}
