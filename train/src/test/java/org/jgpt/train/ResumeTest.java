package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.jgpt.model.GPT2Config;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run stopped and resumed from its checkpoint gives exactly (bit for bit) the losses and parameters of the same run
 * uninterrupted; the same seed gives the same run, another seed another. Dropout is on, so its masks are covered.
 */
class ResumeTest {
    private static final GPT2Config MODEL = new GPT2Config(50257, 32, 16, 2, 2, 64, 1e-5f, "gelu_new", true, false, 50256, 50256);

    @TempDir
    static Path dir;
    private static Path data;

    @BeforeAll
    static void prepareCorpus() throws IOException {
        String moby = Files.readString(RepoFiles.find("data/corpora/moby-dick.txt"));
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        for (int i = 0; i < 4; i++) Files.writeString(corpus.resolve("part" + i + ".txt"), moby.substring(20_000 * i + 5_000, 20_000 * i + 9_000));
        data = dir.resolve("data");
        CorpusPreparer.prepare(List.of(corpus), data, GPT2Tokenizer.gpt2(), 0.25, 1_000_000, null);
    }

    private static TrainConfig config(long seed) {
        return new TrainConfig(data.toString(), 2, 16, 2, 6, 3e-3, 3e-4, 2, 0.1, true, 0.9, 0.95, 1.0, 0.1, 3, 2, 0, seed, "clm", 0.15, 0.05, "mean", List.of());
    }

    /** Records each step's loss and tokens, and each validation loss. */
    private static final class Recorder implements Trainer.Listener {
        final List<Double> losses = new ArrayList<>();
        final List<Long> tokens = new ArrayList<>();

        @Override
        public void onStep(Trainer.StepMetrics metrics) {
            losses.add(metrics.loss());
            tokens.add(metrics.tokens());
        }

        @Override
        public void onValidation(int step, double loss, double accuracy) {
            losses.add(-loss);
        }
    }

    private static List<Double> run(Path out, long seed) throws IOException {
        Recorder recorder = new Recorder();
        try (Trainer trainer = Trainer.start(config(seed), MODEL, null, out)) {
            trainer.run(recorder, () -> false);
        }
        return recorder.losses;
    }

    @Test
    void resumedRunEqualsUninterruptedRun() throws IOException {
        Path whole = dir.resolve("whole");
        List<Double> uninterrupted = run(whole, 42);

        Path split = dir.resolve("split");
        Recorder recorder = new Recorder();
        try (Trainer first = Trainer.start(config(42), MODEL, null, split)) {
            first.run(recorder, () -> recorder.losses.size() >= 3);
            assertEquals(3, first.step());
        }
        try (Trainer second = Trainer.resume(split)) {
            assertEquals(3, second.step());
            second.run(recorder, () -> false);
        }
        assertEquals(uninterrupted, recorder.losses);
        // packed windows hold no padding: every step trains on batch × sequence × accumulation tokens
        assertEquals(Collections.nCopies(6, 2L * 16 * 2), recorder.tokens);

        try (var a = org.jgpt.io.Safetensors.open(whole.resolve("model.safetensors"));
             var b = org.jgpt.io.Safetensors.open(split.resolve("model.safetensors"))) {
            for (String name : a.names()) {
                assertArrayEquals(a.tensor(name).toFloatArray(), b.tensor(name).toFloatArray(), name);
            }
        }
        assertTrue(Files.exists(whole.resolve("loss.png")));
        assertTrue(Files.readAllLines(whole.resolve("metrics.csv")).size() > 6);
    }

    @Test
    void seedDeterminesTheRun() throws IOException {
        List<Double> a = run(dir.resolve("seed-a"), 7);
        List<Double> b = run(dir.resolve("seed-b"), 7);
        List<Double> c = run(dir.resolve("seed-c"), 8);
        assertEquals(a, b);
        assertFalse(Arrays.equals(a.toArray(), c.toArray()));
    }
}
