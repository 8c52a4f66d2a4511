package org.jgpt.bench;

import java.util.concurrent.TimeUnit;
import org.jgpt.kernel.MemoryBandwidth;
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
 * The roofline for decoding: {@link MemoryBandwidth}'s streaming read of 1 GiB (far larger than L3) by every thread
 * of jgpt's pool. GB/s = {@link #BYTES} / time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class BandwidthBenchmark {
    static final long BYTES = 1L << 30;

    MemoryBandwidth probe;

    @Setup(Level.Trial)
    public void setUp() {
        probe = new MemoryBandwidth(BYTES);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        probe.close();
    }

    @Benchmark
    public double read() {
        return probe.read();
    }
}
