package org.jgpt.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.jgpt.eval.BloomFilter;
import org.jgpt.eval.Ngrams;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The overlap analysis's inner loop on Moby-Dick (1.2 MB, read once at setup): normalising and hashing the text
 * into 8-gram keys, then also adding them to or looking them up in a Bloom filter sized for 1e-8. MB/s = the
 * file's size in MB / time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class OverlapBenchmark {
    char[] text;
    long ngrams;
    BloomFilter filled;

    @Setup
    public void setUp() throws IOException {
        Path file = Path.of("data", "corpora", "moby-dick.txt");
        if (!Files.exists(file)) file = Path.of("..").resolve(file);
        text = Files.readString(file, StandardCharsets.UTF_8).toCharArray();
        long[] count = {0};
        feed(new Ngrams(key -> count[0]++));
        ngrams = count[0];
        filled = BloomFilter.forCapacity(ngrams, 1e-8);
        feed(new Ngrams(filled::add));
    }

    private void feed(Ngrams ngrams) {
        ngrams.accept(text, 0, text.length);
        ngrams.endDocument();
    }

    @Benchmark
    public long hashOnly() {
        long[] sum = {0};
        feed(new Ngrams(key -> sum[0] += key));
        return sum[0];
    }

    @Benchmark
    public BloomFilter build() {
        BloomFilter filter = BloomFilter.forCapacity(ngrams, 1e-8);
        feed(new Ngrams(filter::add));
        return filter;
    }

    @Benchmark
    public long check() {
        long[] found = {0};
        feed(new Ngrams(key -> {
            if (filled.mightContain(key)) found[0]++;
        }));
        return found[0];
    }
}
