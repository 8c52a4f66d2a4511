package org.jgpt.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jgpt.io.Checkpoints;
import org.jgpt.kernel.DType;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Weights;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Checkpoint I/O on a randomly initialised GPT-2 124M folder: {@code load} (config, header validation, memory
 * mapping, shape checks; no weight is copied) and {@code save} (config.json + model.safetensors, written atomically).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class CheckpointBenchmark {
    @Param({"F32", "BF16"})
    public String dtype;

    private Path dir;
    private GPT2Weights weights;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("jgpt-checkpoint-bench");
        weights = GPT2Weights.random(GPT2Config.preset("gpt2"), 1, DType.valueOf(dtype));
        Checkpoints.save(weights, dir, weights.wte().dtype());
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        weights.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    @Benchmark
    public int load() {
        try (GPT2Weights w = Checkpoints.load(dir)) {
            return w.layers().size();
        }
    }

    @Benchmark
    public void save() {
        Checkpoints.save(weights, dir, weights.wte().dtype());
    }
}
