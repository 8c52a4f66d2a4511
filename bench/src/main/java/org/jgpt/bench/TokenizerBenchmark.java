package org.jgpt.bench;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Encode throughput on the SOTU addresses and Moby-Dick, jgpt against jtokkit's r50k_base {@code encodeOrdinary}
 * (the same ids). Each call encodes one document; the {@code mb} counter is the megabytes of UTF-8 encoded per
 * second, summed over threads.
 *
 * <p>{@code promptsOnVirtualThreads} encodes short prompts (sentences of the addresses) as the server does, each on a
 * new virtual thread, {@value #PROMPTS_PER_CALL} of them started at once; {@code promptsOnOneThread} encodes the same
 * prompts one after another on the benchmark's thread. Both score prompts per second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class TokenizerBenchmark {

    @State(Scope.Benchmark)
    public static class Corpus {
        final List<String> documents = new ArrayList<>();
        final List<Integer> sizes = new ArrayList<>();
        final GPT2Tokenizer jgpt = GPT2Tokenizer.gpt2();
        final Encoding jtokkit = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);

        @Setup
        public void load() throws IOException {
            Path corpora = corpora();
            List<Path> files;
            try (Stream<Path> sotu = Files.list(corpora.resolve("sotu"))) {
                files = new ArrayList<>(sotu.sorted().toList());
            }
            files.add(corpora.resolve("moby-dick.txt"));
            for (Path file : files) {
                byte[] bytes = Files.readAllBytes(file);
                documents.add(new String(bytes, StandardCharsets.UTF_8));
                sizes.add(bytes.length);
            }
        }

        static Path corpora() {
            for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
                if (Files.isDirectory(dir.resolve("data/corpora"))) return dir.resolve("data/corpora");
            }
            throw new IllegalStateException("run from the jgpt repository: data/corpora not found");
        }
    }

    static final int PROMPTS_PER_CALL = 64;

    /** The sentences of the addresses, and which is next. */
    @State(Scope.Benchmark)
    public static class Prompts {
        final List<String> sentences = new ArrayList<>();
        final GPT2Tokenizer jgpt = GPT2Tokenizer.gpt2();
        int next;

        @Setup
        public void load() throws IOException {
            List<Path> files;
            try (Stream<Path> sotu = Files.list(Corpus.corpora().resolve("sotu"))) {
                files = sotu.sorted().toList();
            }
            for (Path file : files) {
                for (String sentence : Files.readString(file).split("(?<=\\.) ")) {
                    if (!sentence.isBlank()) sentences.add(sentence);
                }
            }
        }

        String take() {
            String sentence = sentences.get(next);
            next = (next + 1) % sentences.size();
            return sentence;
        }
    }

    /** Per thread: which document is next, and the megabytes encoded. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Progress {
        public double mb;
        int next;

        @Setup(Level.Iteration)
        public void reset() {
            mb = 0;
        }

        int take(Corpus corpus) {
            int document = next;
            next = (next + 1) % corpus.documents.size();
            mb += corpus.sizes.get(document) / 1e6;
            return document;
        }
    }

    @Benchmark
    @Threads(1)
    public int[] jgpt1Thread(Corpus corpus, Progress progress) {
        return corpus.jgpt.encode(corpus.documents.get(progress.take(corpus)));
    }

    @Benchmark
    @Threads(1)
    public Object jtokkit1Thread(Corpus corpus, Progress progress) {
        return corpus.jtokkit.encodeOrdinary(corpus.documents.get(progress.take(corpus)));
    }

    @Benchmark
    @Threads(2)
    public int[] jgpt2Threads(Corpus corpus, Progress progress) {
        return corpus.jgpt.encode(corpus.documents.get(progress.take(corpus)));
    }

    @Benchmark
    @Threads(2)
    public Object jtokkit2Threads(Corpus corpus, Progress progress) {
        return corpus.jtokkit.encodeOrdinary(corpus.documents.get(progress.take(corpus)));
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(PROMPTS_PER_CALL)
    public int promptsOnVirtualThreads(Prompts prompts) throws InterruptedException {
        Thread[] threads = new Thread[PROMPTS_PER_CALL];
        int[] tokens = new int[PROMPTS_PER_CALL];
        for (int i = 0; i < PROMPTS_PER_CALL; i++) {
            String prompt = prompts.take();
            int slot = i;
            threads[i] = Thread.ofVirtual().start(() -> tokens[slot] = prompts.jgpt.encode(prompt).length);
        }
        int total = 0;
        for (int i = 0; i < PROMPTS_PER_CALL; i++) {
            threads[i].join();
            total += tokens[i];
        }
        return total;
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(PROMPTS_PER_CALL)
    public int promptsOnOneThread(Prompts prompts) {
        int total = 0;
        for (int i = 0; i < PROMPTS_PER_CALL; i++) total += prompts.jgpt.encode(prompts.take()).length;
        return total;
    }
}
