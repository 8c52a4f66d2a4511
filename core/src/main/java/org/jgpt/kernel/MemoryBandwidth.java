package org.jgpt.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Measures the memory read bandwidth that decoding is bound by: every thread of the pool streams its own slice of a
 * buffer far larger than the caches, with vector loads, as the decode matvec streams weights.
 */
public final class MemoryBandwidth {
    private static final VectorSpecies<Float> F = Lanes.FLOATS;

    private MemoryBandwidth() {}

    /** The best of {@code passes} full reads of a {@code bytes}-byte buffer, in bytes per second. */
    public static double measure(long bytes, int passes) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(bytes, 4096);
            for (long i = 0; i < bytes; i += 4096) buffer.set(ValueLayout.JAVA_BYTE, i, (byte) i);
            int slices = Parallel.threads();
            long sliceBytes = bytes / slices / (4L * F.vectorByteSize()) * (4L * F.vectorByteSize());
            float[] sums = new float[slices];
            MemorySegment shared = buffer.asReadOnly();
            double best = Double.MAX_VALUE;
            for (int pass = 0; pass < passes; pass++) {
                long start = System.nanoTime();
                Parallel.forEach(slices, s -> sums[s] = sum(shared, s * sliceBytes, (s + 1) * sliceBytes));
                best = Math.min(best, (System.nanoTime() - start) / 1e9);
            }
            return sliceBytes * slices / best;
        }
    }

    private static float sum(MemorySegment buffer, long from, long to) {
        long step = F.vectorByteSize();
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (long i = from; i < to; i += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, buffer, i, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, buffer, i + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, buffer, i + 2 * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, buffer, i + 3 * step, ByteOrder.LITTLE_ENDIAN));
        }
        return VectorMath.sum(a0.add(a1).add(a2).add(a3));
    }
}
