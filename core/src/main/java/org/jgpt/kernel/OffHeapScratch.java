package org.jgpt.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A growable off-heap buffer per thread, for the operands that the streaming matvec reads beside the weights: C2
 * folds a weight load into the fused multiply-add only when no heap array load shares the expression (see
 * {@link Matmul}). The buffer is visible to the pool's workers, which fill it for the calling thread.
 */
final class OffHeapScratch {
    static final ThreadLocal<OffHeapScratch> SUMS = ThreadLocal.withInitial(OffHeapScratch::new);
    static final ThreadLocal<OffHeapScratch> INPUT = ThreadLocal.withInitial(OffHeapScratch::new);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private MemorySegment buffer = MemorySegment.NULL;

    private OffHeapScratch() {}

    /** The first {@code bytes} of the buffer, zeroed. */
    MemorySegment zeroed(long bytes) {
        return reserve(bytes).fill((byte) 0);
    }

    /** The first {@code count} floats of {@code values}, copied little-endian into the buffer. */
    MemorySegment copyOf(float[] values, int count) {
        MemorySegment copy = reserve((long) count * Float.BYTES);
        MemorySegment.copy(values, 0, copy, FLOAT_LE, 0, count);
        return copy;
    }

    private MemorySegment reserve(long bytes) {
        if (buffer.byteSize() < bytes) buffer = Arena.ofAuto().allocate(Math.max(bytes, 2 * buffer.byteSize()), 64);
        return buffer.asSlice(0, bytes);
    }
}
