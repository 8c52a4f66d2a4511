package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;
import org.jgpt.io.Json;
import org.jgpt.model.GPT2Config;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One training step of a tiny GPT-2 against PyTorch (scripts/reference/make_training_fixture.py): the loss, every
 * parameter's gradient, the global gradient norm, and the parameters after a clipped AdamW step.
 * Tolerance: |jgpt - torch| ≤ 1e-5 + 1e-4·|torch| for each value (float32 on both sides, different summation order).
 * Parameters whose gradient is analytically zero (the attention key bias: softmax ignores a per-query constant) have
 * only float noise for a gradient, which Adam's g / (|g| + eps) turns into any step up to lr; for them the update is
 * checked to stay within lr of where it started.
 */
class ReferenceStepTest {
    private static Map<String, Object> fixture;

    @BeforeAll
    static void readFixture() throws IOException {
        fixture = Json.parseObject(Files.readString(RepoFiles.find("data/fixtures/training/step.json")));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(String key) {
        return (Map<String, Object>) fixture.get(key);
    }

    private static TrainableGPT2 modelWithReferenceParameters() {
        Map<String, Object> c = object("config");
        int nEmbd = ((Number) c.get("n_embd")).intValue();
        GPT2Config config = new GPT2Config(((Number) c.get("vocab_size")).intValue(), ((Number) c.get("n_positions")).intValue(),
                nEmbd, ((Number) c.get("n_layer")).intValue(), ((Number) c.get("n_head")).intValue(), 4 * nEmbd,
                ((Number) c.get("layer_norm_epsilon")).floatValue(), "gelu_new", true, false, 63, 63);
        int batch = ((Number) fixture.get("batch")).intValue();
        int seqLen = ((Number) fixture.get("seq_len")).intValue();
        TrainableGPT2 model = new TrainableGPT2(config, batch, seqLen, 0f);
        Map<String, Object> reference = object("parameters");
        for (Parameter p : model.parameters()) {
            float[] values = Json.toFloatArray(reference.get(p.name()));
            assertEquals(p.value().length, values.length, p.name());
            System.arraycopy(values, 0, p.value(), 0, values.length);
        }
        return model;
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            double tolerance = 1e-5 + 1e-4 * Math.abs(expected[i]);
            assertTrue(Math.abs(expected[i] - actual[i]) <= tolerance,
                    what + "[" + i + "]: torch " + expected[i] + ", jgpt " + actual[i]);
        }
    }

    @Test
    void lossAndEveryGradientMatchPyTorch() {
        TrainableGPT2 model = modelWithReferenceParameters();
        float loss = model.forward(Json.toIntArray(fixture.get("inputs")), Json.toIntArray(fixture.get("targets")), 0);
        assertEquals(((Number) fixture.get("loss")).doubleValue(), loss, 1e-5);
        model.zeroGrad();
        model.backward(1f);
        Map<String, Object> gradients = object("gradients");
        for (Parameter p : model.parameters()) assertClose(Json.toFloatArray(gradients.get(p.name())), p.grad(), "d " + p.name());
    }

    @Test
    void clippedAdamWStepMatchesPyTorch() {
        TrainableGPT2 model = modelWithReferenceParameters();
        model.forward(Json.toIntArray(fixture.get("inputs")), Json.toIntArray(fixture.get("targets")), 0);
        model.zeroGrad();
        model.backward(1f);
        Map<String, Object> o = object("optimizer");
        var settings = new AdamW.Settings(((Number) o.get("beta1")).floatValue(), ((Number) o.get("beta2")).floatValue(),
                ((Number) o.get("eps")).floatValue(), ((Number) o.get("weight_decay")).floatValue(), true);
        AdamW optimizer = new AdamW(model.parameters(), settings);
        double norm = optimizer.step(((Number) o.get("lr")).floatValue(), ((Number) o.get("clip")).floatValue());
        assertEquals(((Number) fixture.get("grad_norm")).doubleValue(), norm, 1e-5);
        float lr = ((Number) o.get("lr")).floatValue();
        Map<String, Object> updated = object("updated");
        Map<String, Object> initial = object("parameters");
        Map<String, Object> gradients = object("gradients");
        for (Parameter p : model.parameters()) {
            float[] expected = Json.toFloatArray(updated.get(p.name()));
            float[] before = Json.toFloatArray(initial.get(p.name()));
            float[] gradient = Json.toFloatArray(gradients.get(p.name()));
            for (int i = 0; i < expected.length; i++) {
                boolean noiseOnly = Math.abs(gradient[i]) < 1e-6;
                double tolerance = noiseOnly ? 1e-5 : 1e-5 + 1e-4 * Math.abs(expected[i]);
                double actual = noiseOnly ? Math.abs(p.value()[i] - before[i]) - lr : Math.abs(p.value()[i] - expected[i]);
                assertTrue(actual <= tolerance, p.name() + "[" + i + "]: torch " + expected[i] + ", jgpt " + p.value()[i]);
            }
        }
    }
}
