package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jgpt.io.Json;
import org.jgpt.model.EncoderConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The permutation LM against PyTorch (scripts/reference/make_plm_fixture.py: XLNet's two streams written out by hand
 * on RoBERTa's body, the masks as Hugging Face's permutation collator builds them): on data/fixtures/encoder/tiny plus
 * the fixture's mask_emb, one right-padded batch with a given order gives both streams' attention masks exactly, the
 * logits at the predicted rows within 1e-4, the loss within 1e-5 and every gradient within 1e-5 + 1e-4·|torch|.
 * Then the property XLNet's query stream exists for: a predicted token's own logits do not move when the token
 * changes, while a token earlier in the order moves the later predictions.
 */
class PermutationReferenceTest {
    private Map<String, Object> fixture;
    private PermutationEncoder model;
    private int[] inputs, lengths, ranks, labels;

    @BeforeEach
    void open() throws IOException {
        fixture = Json.parseObject(Files.readString(RepoFiles.find("data/fixtures/plm/step.json")));
        inputs = Json.toIntArray(fixture.get("inputs"));
        lengths = Json.toIntArray(fixture.get("lengths"));
        ranks = Json.toIntArray(fixture.get("ranks"));
        labels = Json.toIntArray(fixture.get("labels"));
        Path tiny = RepoFiles.find("data/fixtures/encoder/tiny");
        model = new PermutationEncoder(EncoderConfig.load(tiny.resolve("config.json")), lengths.length,
                inputs.length / lengths.length, 0f);
        assertEquals(List.of("mask_emb"), model.load(tiny));
        float[] maskEmb = Json.toFloatArray(fixture.get("mask_emb"));
        for (Parameter p : model.parameters()) if (p.name().equals("mask_emb")) System.arraycopy(maskEmb, 0, p.value(), 0, maskEmb.length);
    }

    @Test
    void attentionMasksAreTheCollators() {
        int b = lengths.length, t = inputs.length / b;
        for (String stream : new String[] {"content", "query"}) {
            boolean[] visible = new boolean[b * t * t];
            PermutationEncoder.visibility(visible, ranks, lengths, b, t, stream.equals("content"));
            int[] expected = Json.toIntArray(fixture.get(stream + "_visible"));
            for (int i = 0; i < visible.length; i++) assertEquals(expected[i] == 1, visible[i], stream + " mask [" + i + "]");
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void oneStepMatchesPyTorch() {
        model.zeroGrad();
        float loss = model.forward(inputs, lengths, ranks, labels, 0);
        assertClose(Json.toFloatArray(fixture.get("logits")), model.predictionLogits(), 1e-4, 0, "logits");
        assertEquals(((Number) fixture.get("loss")).doubleValue(), loss, 1e-5);
        model.backward(1f);
        Map<String, Object> gradients = (Map<String, Object>) fixture.get("gradients");
        Map<String, float[]> ours = model.huggingFaceTensors(true);
        assertEquals(new TreeSet<>(gradients.keySet()), new TreeSet<>(ours.keySet()));
        for (var e : gradients.entrySet()) assertClose(Json.toFloatArray(e.getValue()), ours.get(e.getKey()), 1e-5, 1e-4, "d " + e.getKey());
    }

    @Test
    void aPredictedTokenDoesNotSeeItself() {
        // sequence 0 predicts positions 2, 3 and 5 (ranks 2, 0, 7): logits rows 0, 1, 2 of predictionLogits
        assertArrayEquals(new int[] {-1, -1, 2, 0, -1, 7, -1, -1}, java.util.Arrays.copyOf(ranks, 8));
        int vocab = model.config().vocabSize();
        float[] before = logits(inputs);
        for (int position : new int[] {2, 3, 5}) {
            int[] changed = inputs.clone();
            changed[position] = inputs[position] == 40 ? 41 : 40;
            float[] after = logits(changed);
            int own = position == 3 ? 1 : position == 2 ? 0 : 2;
            assertArrayEquals(row(before, own, vocab), row(after, own, vocab), "position " + position + "'s own prediction moved");
            if (position == 3) { // first in the order: both later predictions see it
                assertTrue(maxDifference(row(before, 0, vocab), row(after, 0, vocab)) > 1e-4, "position 2 did not see position 3");
                assertTrue(maxDifference(row(before, 2, vocab), row(after, 2, vocab)) > 1e-4, "position 5 did not see position 3");
            }
        }
        int[] context = inputs.clone();
        context[1] = inputs[1] == 40 ? 41 : 40; // a context token: every prediction sees it
        float[] after = logits(context);
        for (int i = 0; i < 3; i++) assertTrue(maxDifference(row(before, i, vocab), row(after, i, vocab)) > 1e-4, "prediction " + i);
    }

    @Test
    void aLabelWithoutARankIsRefused() {
        int[] leaky = labels.clone();
        leaky[1] = inputs[1]; // position 1 is context: its query stream sees its own token
        var e = assertThrows(IllegalArgumentException.class, () -> model.forward(inputs, lengths, ranks, leaky, 0));
        assertTrue(e.getMessage().contains("no rank"), e.getMessage());
    }

    private float[] logits(int[] in) {
        model.evaluate(in, lengths, ranks, labels);
        return model.predictionLogits();
    }

    private static float[] row(float[] x, int row, int n) {
        return java.util.Arrays.copyOfRange(x, row * n, (row + 1) * n);
    }

    private static double maxDifference(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }

    private static void assertClose(float[] expected, float[] actual, double absolute, double relative, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            double tolerance = absolute + relative * Math.abs(expected[i]);
            assertTrue(Math.abs(expected[i] - actual[i]) <= tolerance, what + "[" + i + "]: torch " + expected[i] + ", jgpt " + actual[i]);
        }
    }
}
