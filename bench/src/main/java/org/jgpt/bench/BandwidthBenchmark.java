package org.jgpt.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jgpt.kernel.Parallel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The roofline for decoding: a streaming read of 1 GiB (far larger than L3) by every thread of jgpt's pool,
 * each summing its own contiguous slice with vector loads. GB/s = {@link #BYTES} / time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class BandwidthBenchmark {
    static final long BYTES = 1L << 30;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    Arena arena;
    MemorySegment buffer;
    float[] sums;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        buffer = arena.allocate(BYTES, 4096);
        for (long i = 0; i < BYTES; i += 4096) buffer.set(ValueLayout.JAVA_BYTE, i, (byte) i);
        sums = new float[Parallel.threads()];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] read() {
        int slices = sums.length;
        Parallel.forEach(slices, s -> {
            long from = BYTES / slices * s, to = BYTES / slices * (s + 1);
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            long step = F.vectorByteSize();
            for (long i = from; i < to; i += 4 * step) {
                a0 = a0.add(FloatVector.fromMemorySegment(F, buffer, i, ByteOrder.LITTLE_ENDIAN));
                a1 = a1.add(FloatVector.fromMemorySegment(F, buffer, i + step, ByteOrder.LITTLE_ENDIAN));
                a2 = a2.add(FloatVector.fromMemorySegment(F, buffer, i + 2 * step, ByteOrder.LITTLE_ENDIAN));
                a3 = a3.add(FloatVector.fromMemorySegment(F, buffer, i + 3 * step, ByteOrder.LITTLE_ENDIAN));
            }
            sums[s] = a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
        });
        return sums;
    }
}
