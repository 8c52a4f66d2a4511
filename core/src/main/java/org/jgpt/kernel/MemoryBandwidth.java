package org.jgpt.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A probe of the memory read bandwidth that decoding is bound by: a buffer far larger than the caches, which every
 * thread of the pool streams its own slice of, with vector loads, as the decode matvec streams weights.
 *
 * <p>On a shared machine the bandwidth drifts by tens of percent within seconds, so a roofline is best measured in
 * passes interleaved with the work it bounds; {@link #read} is one pass.
 */
public final class MemoryBandwidth implements AutoCloseable {
    private static final VectorSpecies<Float> F = Lanes.FLOATS;
    /** Bytes one iteration of {@link #sum} reads; slices are whole multiples of it. */
    private static final long CHUNK = 4L * F.vectorByteSize();

    private final Arena arena;
    private final MemorySegment buffer;

    /** Allocates and touches a buffer of about {@code bytes}, and compiles the read loop before anything is timed. */
    public MemoryBandwidth(long bytes) {
        int slices = Parallel.threads();
        long sliceBytes = bytes / slices / CHUNK * CHUNK;
        if (sliceBytes == 0) throw new IllegalArgumentException("a probe of " + bytes + " bytes is too small");
        arena = Arena.ofShared();
        MemorySegment data = HugePages.allocate(sliceBytes * slices, arena);
        for (long i = 0; i < data.byteSize(); i += 4096) data.set(ValueLayout.JAVA_BYTE, i, (byte) i);
        buffer = data.asReadOnly();
        MemorySegment warmUp = buffer.asSlice(0, Math.min(sliceBytes, 1L << 20) * slices);
        for (int i = 0; i < 2_000; i++) read(warmUp);
    }

    /** The bytes one {@link #read} streams. */
    public long bytes() {
        return buffer.byteSize();
    }

    /** Streams the whole buffer once, split over the pool; returns the seconds it took. */
    public double read() {
        return read(buffer);
    }

    /**
     * Streams {@code data} once with the probe's loop, split over the pool (a remainder of less than four vectors
     * per thread is left out); returns the seconds it took. For comparing a kernel with a plain read of its operands.
     */
    public static double read(MemorySegment data) {
        int slices = Parallel.threads();
        long slice = data.byteSize() / slices / CHUNK * CHUNK;
        float[] sums = new float[slices];
        long start = System.nanoTime();
        Parallel.forEach(slices, s -> sums[s] += sum(data, s * slice, (s + 1) * slice));
        return (System.nanoTime() - start) / 1e9;
    }

    @Override
    public void close() {
        arena.close();
    }

    private static float sum(MemorySegment buffer, long from, long to) {
        long step = F.vectorByteSize();
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (long i = from; i < to; i += CHUNK) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, buffer, i, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, buffer, i + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, buffer, i + 2 * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, buffer, i + 3 * step, ByteOrder.LITTLE_ENDIAN));
        }
        return VectorMath.sum(a0.add(a1).add(a2).add(a3));
    }
}
