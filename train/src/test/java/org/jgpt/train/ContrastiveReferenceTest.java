package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeSet;
import org.jgpt.io.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One contrastive step against PyTorch (scripts/reference/make_contrastive_fixture.py) on the tiny encoder of
 * data/fixtures/encoder/tiny, dropout 0.1 on both sides with the same masks (the reference recomputes jgpt's from the
 * seed): SimCSE with mean pooling at temperature 0.05, whose two views of each sentence differ only by dropout, and
 * contrastive pairs with {@code <s>} pooling at temperature 0.1. Pooled vectors and scores within 1e-4, the loss
 * within 1e-5, every gradient within 1e-5 + 1e-4·|torch|.
 */
class ContrastiveReferenceTest {
    private static Map<String, Object> fixture;

    @BeforeAll
    static void readFixture() throws IOException {
        fixture = Json.parseObject(Files.readString(RepoFiles.find("data/fixtures/contrastive/step.json")));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> kase(String name) {
        return (Map<String, Object>) fixture.get(name);
    }

    private static int integer(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).intValue();
    }

    private static double number(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).doubleValue();
    }

    private static void assertClose(float[] expected, float[] actual, double absolute, double relative, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            double tolerance = absolute + relative * Math.abs(expected[i]);
            assertTrue(Math.abs(expected[i] - actual[i]) <= tolerance, what + "[" + i + "]: torch " + expected[i] + ", jgpt " + actual[i]);
        }
    }

    /** Runs the case through {@link ContrastiveStep} and checks it; returns the pooled vectors. */
    @SuppressWarnings("unchecked")
    private static float[] checkStep(Map<String, Object> reference) throws IOException {
        TrainableEncoder model = TrainableEncoder.open(RepoFiles.find("data/fixtures/encoder/tiny"),
                TrainableEncoder.Heads.none(), integer(reference, "batch"), integer(reference, "seq_len"),
                (float) number(reference, "dropout"), false, 0);
        ContrastiveStep step = new ContrastiveStep(model, Pooling.parse((String) reference.get("pooling")),
                (float) number(reference, "temperature"));
        model.zeroGrad();
        float loss = step.forward(Json.toIntArray(reference.get("inputs")), Json.toIntArray(reference.get("lengths")),
                true, ((Number) reference.get("dropout_seed")).longValue());
        assertClose(Json.toFloatArray(reference.get("pooled")), step.pooled(), 1e-4, 0, "pooled");
        assertEquals(number(reference, "loss"), loss, 1e-5);
        step.backward(1f);
        Map<String, Object> gradients = (Map<String, Object>) reference.get("gradients");
        Map<String, float[]> ours = model.huggingFaceTensors(true);
        assertEquals(new TreeSet<>(gradients.keySet()), new TreeSet<>(ours.keySet()));
        for (var e : gradients.entrySet()) {
            assertClose(Json.toFloatArray(e.getValue()), ours.get(e.getKey()), 1e-5, 1e-4, "d " + e.getKey());
        }
        return step.pooled().clone();
    }

    @Test
    void simcseStepMatchesPyTorch() throws IOException {
        Map<String, Object> simcse = kase("simcse");
        float[] pooled = checkStep(simcse);
        // the positives are the anchors' tokens again: only their dropout masks tell the two views apart
        int[] inputs = Json.toIntArray(simcse.get("inputs"));
        int half = inputs.length / 2;
        assertEquals(Arrays.toString(Arrays.copyOfRange(inputs, 0, half)), Arrays.toString(Arrays.copyOfRange(inputs, half, inputs.length)));
        int dim = pooled.length / integer(simcse, "batch");
        int n = integer(simcse, "batch") / 2;
        for (int i = 0; i < n; i++) {
            double difference = 0;
            for (int d = 0; d < dim; d++) difference += Math.abs(pooled[i * dim + d] - pooled[(n + i) * dim + d]);
            assertTrue(difference > 1e-3, "sentence " + i + "'s two views are the same vector");
        }
    }

    @Test
    void contrastivePairsStepMatchesPyTorch() throws IOException {
        checkStep(kase("pairs"));
    }
}
