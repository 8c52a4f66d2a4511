package org.jgpt.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.jgpt.io.Checkpoints;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * GPT2Model against PyTorch (data/fixtures/gpt2/VARIANT/expected.json, made by scripts/reference/make_gpt2_fixtures.py):
 * for every variant, max |Δlogit| ≤ 1e-4 at every position with a full prefill of each sequence, with
 * token-by-token decoding through the KV cache, and with all sequences in one ragged batch; and the 50 greedy
 * tokens identical.
 */
class FixtureParityTest {
    private static final double TOLERANCE = 1e-4;

    @TestFactory
    Stream<DynamicTest> everyVariantMatchesPyTorch() throws IOException {
        List<Path> variants = Fixtures.variants();
        assertTrue(variants.size() >= 10, "fixtures missing under " + Fixtures.DIR.toAbsolutePath());
        return variants.stream().map(dir -> DynamicTest.dynamicTest(dir.getFileName().toString(), () -> {
            Fixtures.Expected expected = Fixtures.Expected.read(dir);
            try (GPT2Weights weights = Checkpoints.load(dir)) {
                GPT2Model model = new GPT2Model(weights);
                prefillEachSequence(model, expected);
                decodeTokenByToken(model, expected);
                raggedBatch(model, expected);
                greedy(model, expected);
            }
        }));
    }

    private static void prefillEachSequence(GPT2Model model, Fixtures.Expected expected) {
        int vocab = model.config().vocabSize();
        for (int s = 0; s < expected.inputs().length; s++) {
            int[] tokens = expected.inputs()[s];
            float[] logits = new float[tokens.length * vocab];
            model.forward(new int[][] {tokens}, new KVCache[] {model.newCache(tokens.length)},
                    new int[] {tokens.length}, logits);
            for (int t = 0; t < tokens.length; t++) {
                assertRow(expected.logits()[s][t], logits, t, "prefill, sequence " + s + ", position " + t);
            }
        }
    }

    private static void decodeTokenByToken(GPT2Model model, Fixtures.Expected expected) {
        float[] logits = new float[model.config().vocabSize()];
        for (int s = 0; s < expected.inputs().length; s++) {
            int[] tokens = expected.inputs()[s];
            KVCache cache = model.newCache(tokens.length);
            for (int t = 0; t < tokens.length; t++) {
                model.forward(new int[][] {{tokens[t]}}, new KVCache[] {cache}, logits);
                assertRow(expected.logits()[s][t], logits, 0, "decode, sequence " + s + ", position " + t);
            }
        }
    }

    /** All sequences at once; the first one split into a prefill and a second ragged step, to mix cache lengths. */
    private static void raggedBatch(GPT2Model model, Fixtures.Expected expected) {
        int vocab = model.config().vocabSize();
        int[][] inputs = expected.inputs();
        KVCache[] caches = new KVCache[inputs.length];
        for (int s = 0; s < inputs.length; s++) caches[s] = model.newCache(inputs[s].length);
        int head = inputs[0].length / 2;
        model.forward(new int[][] {Arrays.copyOf(inputs[0], head)}, new KVCache[] {caches[0]}, new float[vocab]);
        int[][] fed = inputs.clone();
        fed[0] = Arrays.copyOfRange(inputs[0], head, inputs[0].length);
        int[] logitRows = Arrays.stream(fed).mapToInt(f -> f.length).toArray();
        float[] logits = new float[Arrays.stream(logitRows).sum() * vocab];
        model.forward(fed, caches, logitRows, logits);
        int row = 0;
        for (int s = 0; s < inputs.length; s++) {
            int first = inputs[s].length - fed[s].length;
            for (int t = first; t < inputs[s].length; t++, row++) {
                assertRow(expected.logits()[s][t], logits, row, "ragged batch, sequence " + s + ", position " + t);
            }
        }
    }

    private static void greedy(GPT2Model model, Fixtures.Expected expected) {
        int vocab = model.config().vocabSize();
        int[] prompt = expected.greedyPrompt();
        int steps = expected.greedyTokens().length;
        KVCache cache = model.newCache(prompt.length + steps);
        float[] logits = new float[vocab];
        model.forward(new int[][] {prompt}, new KVCache[] {cache}, logits);
        List<Integer> tokens = new ArrayList<>();
        for (int i = 0; i < steps; i++) {
            int best = 0;
            for (int v = 1; v < vocab; v++) if (logits[v] > logits[best]) best = v;
            tokens.add(best);
            model.forward(new int[][] {{best}}, new KVCache[] {cache}, logits);
        }
        assertArrayEquals(expected.greedyTokens(), tokens.stream().mapToInt(Integer::intValue).toArray(), "greedy");
    }

    private static void assertRow(float[] expected, float[] logits, int row, String what) {
        int vocab = expected.length;
        double maxError = 0;
        for (int v = 0; v < vocab; v++) maxError = Math.max(maxError, Math.abs(expected[v] - logits[row * vocab + v]));
        assertTrue(maxError <= TOLERANCE, what + ": max |Δlogit| " + maxError);
    }
}
