package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;
import org.jgpt.io.Json;
import org.jgpt.model.ElectraConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Replaced-token detection against PyTorch (scripts/reference/make_electra_fixture.py, ELECTRA written out from
 * Hugging Face's layout): the pair in data/fixtures/electra/tiny (discriminator) and tiny/generator is loaded by its
 * tensor names, and one right-padded batch, with the generator's samples given so that both sides see the same
 * replacements, gives each loss within 1e-5 (the λ-weighted sum within 1e-5 × λ), the discriminator's logits within
 * 1e-4, and every gradient (the shared embeddings', the generator's, the discriminator's) within 1e-5 + 1e-4·|torch|.
 * Both models project their embeddings (12 wide; generator 8, discriminator 16). Dropout is off on both sides.
 */
class ElectraReferenceTest {
    private static Map<String, Object> fixture;
    private static int[] original, masked, labels, lengths;

    @BeforeAll
    static void readFixture() throws IOException {
        fixture = Json.parseObject(Files.readString(RepoFiles.find("data/fixtures/electra/step.json")));
        original = Json.toIntArray(fixture.get("original"));
        masked = Json.toIntArray(fixture.get("masked"));
        labels = Json.toIntArray(fixture.get("labels"));
        lengths = Json.toIntArray(fixture.get("lengths"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Map<String, Object> in, String key) {
        return (Map<String, Object>) in.get(key);
    }

    private static TrainableElectra open(boolean withGenerator) throws IOException {
        Path dir = RepoFiles.find("data/fixtures/electra/tiny");
        ElectraConfig discriminator = ElectraConfig.load(dir.resolve("config.json"));
        double ratio = ((Number) fixture.get("generator_width_ratio")).doubleValue();
        ElectraConfig generator = withGenerator ? discriminator.generator(ratio) : null;
        if (withGenerator) assertEquals(ElectraConfig.load(dir.resolve("generator/config.json")), generator);
        float lambda = ((Number) fixture.get("discriminator_weight")).floatValue();
        int batch = ((Number) fixture.get("batch")).intValue();
        int seqLen = ((Number) fixture.get("seq_len")).intValue();
        TrainableElectra model = new TrainableElectra(discriminator, generator, lambda, batch, seqLen, 0f);
        model.initialize(0);
        assertEquals(java.util.List.of(), model.load(dir));
        model.zeroGrad();
        return model;
    }

    private static void assertClose(float[] expected, float[] actual, double absolute, double relative, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            double tolerance = absolute + relative * Math.abs(expected[i]);
            assertTrue(Math.abs(expected[i] - actual[i]) <= tolerance, what + "[" + i + "]: torch " + expected[i] + ", jgpt " + actual[i]);
        }
    }

    /** Every tensor of {@code ours} against the reference's shared or own gradient of that name; each reference one used. */
    private static void assertGradients(Map<String, Object> gradients, String model, Map<String, float[]> ours) {
        Map<String, Object> shared = object(gradients, "shared");
        Map<String, Object> own = object(gradients, model);
        TreeSet<String> expected = new TreeSet<>(shared.keySet());
        expected.addAll(own.keySet());
        assertEquals(expected, new TreeSet<>(ours.keySet()), model + "'s tensors");
        for (var e : ours.entrySet()) {
            Object reference = shared.containsKey(e.getKey()) ? shared.get(e.getKey()) : own.get(e.getKey());
            assertClose(Json.toFloatArray(reference), e.getValue(), 1e-5, 1e-4, model + ": d " + e.getKey());
        }
    }

    private static double number(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).doubleValue();
    }

    @Test
    void replacedTokenDetectionMatchesPyTorch() throws IOException {
        TrainableElectra model = open(true);
        Map<String, Object> rtd = object(fixture, "rtd");
        float generatorLoss = model.generatorForward(masked, lengths, labels, false, 0);
        float loss = model.discriminatorForward(Json.toIntArray(rtd.get("discriminator_inputs")), original, lengths, false, 0);
        assertEquals(number(rtd, "generator_loss"), generatorLoss, 1e-5);
        assertEquals(number(rtd, "discriminator_loss"), model.discriminatorLoss(), 1e-5);
        assertEquals(number(rtd, "loss"), loss, 1e-5 * number(fixture, "discriminator_weight"));
        assertClose(Json.toFloatArray(rtd.get("discriminator_logits")), model.discriminator().logits(), 1e-4, 0, "logits");
        assertEquals(java.util.Arrays.toString(Json.toIntArray(rtd.get("replaced"))),
                java.util.Arrays.toString(model.discriminator().replaced()), "original or replaced, as the reference labels them");
        model.backward(1f);
        Map<String, Object> gradients = object(rtd, "gradients");
        assertGradients(gradients, "generator", model.generatorTensors(true));
        assertGradients(gradients, "discriminator", model.discriminatorTensors(true));
    }

    @Test
    void randomReplacementsMatchPyTorch() throws IOException {
        TrainableElectra model = open(false);
        Map<String, Object> random = object(fixture, "rtd_random");
        float loss = model.discriminatorForward(Json.toIntArray(random.get("discriminator_inputs")), original, lengths, false, 0);
        assertEquals(number(random, "loss"), loss, 1e-5);
        model.backward(1f);
        assertGradients(object(random, "gradients"), "discriminator", model.discriminatorTensors(true));
    }
}
