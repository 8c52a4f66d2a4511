package org.jgpt.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jgpt.tokenizer.BpeTrainer;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Seconds to learn a BPE vocabulary of {@code vocabSize} ids on the 233 SOTU addresses (10.7 MB). */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
@Warmup(iterations = 2)
@Measurement(iterations = 3)
@State(Scope.Benchmark)
public class BpeTrainerBenchmark {
    @Param({"10000", "30000"})
    int vocabSize;

    private final List<byte[]> texts = new ArrayList<>();

    @Setup
    public void load() throws IOException {
        Path sotu = TokenizerBenchmark.Corpus.corpora().resolve("sotu");
        try (Stream<Path> files = Files.list(sotu)) {
            for (Path file : files.sorted().toList()) texts.add(Files.readAllBytes(file));
        }
    }

    @Benchmark
    public GPT2Tokenizer trainOnSotu() {
        return BpeTrainer.train(texts, vocabSize, null);
    }
}
