package org.jgpt.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.jgpt.eval.BloomFilter;
import org.jgpt.eval.Overlap;
import org.jgpt.eval.Progress;
import org.jgpt.io.Json;
import org.jgpt.tokenizer.BpeTrainer;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.train.CorpusPreparer;
import org.jgpt.train.corpus.CorpusBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark jobs in local mode (two threads, .jsonl files cut into 1 KB ranges so that records spread over many
 * tasks) against the single-process commands on the same inputs: the same files, byte for byte.
 */
class SparkJobsTest {
    private static JavaSparkContext context;
    private static SparkJobs jobs;

    @TempDir
    static Path dir;
    private static Path corpus;

    @BeforeAll
    static void start() throws IOException {
        context = SparkJobs.context("local[2]", "test");
        jobs = new SparkJobs(context, 1024);
        corpus = writeCorpus(Files.createDirectories(dir.resolve("corpus")));
    }

    @AfterAll
    static void stop() {
        context.close();
    }

    /** Words from a made-up vocabulary, the same for the same seed. */
    static String words(long seed, int count) {
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < count; i++) {
            if (i > 0) text.append(i % 15 == 0 ? ".\n" : " ");
            text.append(i % 7 == 0 ? "The" : "w" + Integer.toString(random.nextInt(5_000), 36));
        }
        return text.append('.').toString();
    }

    /** Text files (one with "---" separated parts and CRLF lines) and a .jsonl file of 200 records. */
    static Path writeCorpus(Path corpus) throws IOException {
        for (int i = 0; i < 12; i++) Files.writeString(corpus.resolve(String.format("doc-%02d.txt", i)), words(i, 40 + 30 * i));
        Files.writeString(corpus.resolve("parts.txt"), words(100, 50) + "\r\n---\r\n" + words(101, 60).replace("\n", "\r\n") + "\n---\n");
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            jsonl.append(Json.write(Map.of("text", words(1000 + i, 10 + i % 50)))).append('\n');
            if (i % 37 == 0) jsonl.append('\n');
        }
        Files.writeString(corpus.resolve("records.jsonl"), jsonl);
        return corpus;
    }

    private static void assertSameFiles(Path expected, Path actual) throws IOException {
        List<Path> names;
        try (Stream<Path> walk = Files.walk(expected)) {
            names = walk.filter(Files::isRegularFile).map(expected::relativize).sorted().toList();
        }
        try (Stream<Path> walk = Files.walk(actual)) {
            assertEquals(names, walk.filter(Files::isRegularFile).map(actual::relativize).sorted().toList());
        }
        for (Path name : names) {
            assertArrayEquals(Files.readAllBytes(expected.resolve(name)), Files.readAllBytes(actual.resolve(name)), name.toString());
        }
    }

    @Test
    void prepareWritesTheSameShardsAndManifestAsJgptPrepare() throws IOException {
        Path single = dir.resolve("prepared-single");
        Path spark = dir.resolve("prepared-spark");
        CorpusPreparer.Summary expected = CorpusPreparer.prepare(List.of(corpus), single, GPT2Tokenizer.gpt2(), 0.1, 1000, null);
        CorpusPreparer.Summary actual = jobs.prepare(List.of(corpus), spark, null, 0.1, 1000);
        assertEquals(expected, actual);
        assertEquals(213, expected.trainDocuments() + expected.valDocuments(), "12 files, one file read whole, 200 records");
        assertTrue(Files.exists(single.resolve("train_000003.bin")), "several shards");
        assertSameFiles(single, spark);
    }

    @Test
    void prepareStreamsInputsTooBigToCollectAndWritesTheSameShards() throws IOException {
        Path single = dir.resolve("streamed-single");
        Path spark = dir.resolve("streamed-spark");
        CorpusPreparer.Summary expected = CorpusPreparer.prepare(List.of(corpus), single, GPT2Tokenizer.gpt2(), 0.1, 1000, null);
        CorpusPreparer.Summary actual = streaming().prepare(List.of(corpus), spark, null, 0.1, 1000);
        assertEquals(expected, actual);
        assertSameFiles(single, spark);
    }

    /** Jobs that take every input as too big to collect, so results stream to the driver a partition at a time. */
    private static SparkJobs streaming() {
        return new SparkJobs(context, 1024, 0);
    }

    @Test
    void aModelFoldersTokenizerTravelsToTheTasks() throws IOException {
        StringBuilder sample = new StringBuilder();
        for (int i = 0; i < 20; i++) sample.append(words(i, 40)).append('\n');
        GPT2Tokenizer trained = BpeTrainer.train(List.of(sample.toString().getBytes(StandardCharsets.UTF_8)), 400,
                BpeTrainer.SpecialTokens.ROBERTA, null);
        Path model = dir.resolve("model");
        trained.save(model);
        Path single = dir.resolve("roberta-single");
        Path spark = dir.resolve("roberta-spark");
        CorpusPreparer.prepare(List.of(corpus), single, GPT2Tokenizer.fromDirectory(model), 0.1, 5000, null);
        jobs.prepare(List.of(corpus), spark, model, 0.1, 5000);
        assertSameFiles(single, spark);
    }

    @Test
    void overlapBuildGivesTheSameFilterBitForBitAndCheckTheSameReport() throws IOException {
        List<Path> train = List.of(corpus.resolve("records.jsonl"), corpus.resolve("doc-11.txt"), corpus.resolve("parts.txt"));
        Overlap.BuildReport expected = Overlap.build(train, 1e-6, Overlap.Format.DEFAULT, Progress.NONE);
        Overlap.BuildReport actual = jobs.overlapBuild(train, 1e-6, Overlap.Format.DEFAULT);
        expected.filter().save(dir.resolve("single.bloom"));
        actual.filter().save(dir.resolve("spark.bloom"));
        assertEquals(expected.ngrams(), actual.ngrams());
        assertArrayEquals(Files.readAllBytes(dir.resolve("single.bloom")), Files.readAllBytes(dir.resolve("spark.bloom")));

        Path test = Files.writeString(dir.resolve("samples.txt"), words(1005, 40) + "\n---\n" + words(7, 80) + "\n---\n" + words(4242, 30));
        List<Path> tests = List.of(test, corpus.resolve("records.jsonl"));
        BloomFilter filter = expected.filter();
        Map<String, Object> single = Overlap.check(filter, tests, Overlap.Format.DEFAULT, Progress.NONE).toJson();
        Map<String, Object> spark = jobs.overlapCheck(filter, tests, Overlap.Format.DEFAULT).toJson();
        single.remove("megabytes_per_second");
        spark.remove("megabytes_per_second");
        assertEquals(Json.write(single), Json.write(spark));
        assertTrue(Json.write(spark).contains("\"documents\": 200"), Json.write(spark));
    }

    @Test
    void corpusBuilderGivesTheSameCorpusAndReportAndRemovesPlantedDuplicates() throws IOException {
        Path in = Files.createDirectories(dir.resolve("web"));
        String a = words(1, 300), b = words(2, 300), c = words(3, 300);
        Files.writeString(in.resolve("1.html"), "<html><body><nav>Home News</nav><article><p>" + a + "</p></article>"
                + "<footer>Contact</footer></body></html>");
        Files.writeString(in.resolve("2.html"), "<html><head><link rel=canonical href=https://de.wikipedia.org/wiki/X></head><body><p>" + c + "</p></body></html>");
        Files.writeString(in.resolve("3.txt"), b);
        StringBuilder jsonl = new StringBuilder();
        jsonl.append(Json.write(Map.of("text", a.toLowerCase().replace(".", "!")))).append('\n');  // exact duplicate of a
        jsonl.append(Json.write(Map.of("text", b.replaceFirst("w\\w+", "altered")))).append('\n'); // near duplicate of b
        jsonl.append(Json.write(Map.of("text", words(3, 120) + " " + words(4, 180)))).append('\n'); // shares 40% of c: kept
        jsonl.append(Json.write(Map.of("text", c))).append('\n');                                // c itself: kept
        jsonl.append(Json.write(Map.of("text", "short"))).append('\n');
        Files.writeString(in.resolve("4.jsonl"), jsonl);

        CorpusBuilder.Settings settings = new CorpusBuilder.Settings(CorpusBuilder.Settings.DEFAULT_EXCLUDED, 20, 0.8, 7);
        CorpusBuilder.Report expected = CorpusBuilder.build(List.of(in), dir.resolve("web-single"), settings);
        CorpusBuilder.Report actual = jobs.buildCorpus(List.of(in), dir.resolve("web-spark"), settings);
        assertEquals(expected, actual);
        assertSameFiles(dir.resolve("web-single"), dir.resolve("web-spark"));
        assertEquals(1, actual.counts().excludedDomain());
        assertEquals(1, actual.counts().tooShort());
        assertEquals(1, actual.exactDuplicates());
        assertEquals(1, actual.nearDuplicates());
        assertEquals(4, actual.written(), "a, b, the text sharing part of c, and c");
        assertEquals(expected, streaming().buildCorpus(List.of(in), dir.resolve("web-streamed"), settings));
        assertSameFiles(dir.resolve("web-single"), dir.resolve("web-streamed"));
    }

    @Test
    void refusesAnExistingOutputAndAFailedJobLeavesNothing() throws IOException {
        Path taken = Files.createDirectories(dir.resolve("taken"));
        Files.writeString(taken.resolve("keep.txt"), "mine");
        IOException e = assertThrows(IOException.class, () -> jobs.prepare(List.of(corpus), taken, null, 0.1, 1000));
        assertTrue(e.getMessage().contains("not an empty directory"), e.getMessage());
        e = assertThrows(IOException.class, () -> jobs.buildCorpus(List.of(corpus), taken, new CorpusBuilder.Settings(List.of(), 1, 0.8, 0)));
        assertTrue(e.getMessage().contains("exists"), e.getMessage());

        Path bad = Files.createDirectories(dir.resolve("bad"));
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < 100; i++) jsonl.append(Json.write(Map.of("text", words(i, 20)))).append('\n');
        Files.writeString(bad.resolve("late-error.jsonl"), jsonl + "{\"text\": \"unterminated\n");
        Path out = dir.resolve("never");
        Exception failure = assertThrows(Exception.class, () -> jobs.prepare(List.of(bad), out, null, 0.1, 1000));
        assertTrue(Main.message(failure).contains("late-error.jsonl"), Main.message(failure));
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(dir.resolve("never.partial")));
        assertEquals(List.of(taken.resolve("keep.txt")), Files.list(taken).toList());
    }
}
