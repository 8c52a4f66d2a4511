package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.jgpt.io.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The RoBERTa encoder against PyTorch (scripts/reference/make_encoder_fixture.py, RoBERTa written out from Hugging
 * Face's layout): folders data/fixtures/encoder/tiny and tiny-classifier are loaded by their tensor names, and one
 * right-padded batch gives the encoder's output and logits within 1e-4, losses within 1e-5, and every gradient
 * within 1e-5 + 1e-4·|torch| (float32 on both sides, different summation order), for masked LM, masked LM plus
 * sentence order, and sequence classification. Dropout is off on both sides.
 */
class EncoderReferenceTest {
    private static Map<String, Object> fixture;
    private static int[] inputs;
    private static int[] lengths;
    private static int[] mlmLabels;

    @BeforeAll
    static void readFixture() throws IOException {
        fixture = Json.parseObject(Files.readString(RepoFiles.find("data/fixtures/encoder/step.json")));
        inputs = Json.toIntArray(fixture.get("inputs"));
        lengths = Json.toIntArray(fixture.get("lengths"));
        mlmLabels = Json.toIntArray(fixture.get("mlm_labels"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(String key) {
        return (Map<String, Object>) fixture.get(key);
    }

    private static TrainableEncoder open(String folder, TrainableEncoder.Heads heads) throws IOException {
        Path dir = RepoFiles.find("data/fixtures/encoder/" + folder);
        int batch = ((Number) fixture.get("batch")).intValue();
        int seqLen = ((Number) fixture.get("seq_len")).intValue();
        return TrainableEncoder.open(dir, heads, batch, seqLen, 0f, false, 0);
    }

    private static void assertClose(float[] expected, float[] actual, double absolute, double relative, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            double tolerance = absolute + relative * Math.abs(expected[i]);
            assertTrue(Math.abs(expected[i] - actual[i]) <= tolerance, what + "[" + i + "]: torch " + expected[i] + ", jgpt " + actual[i]);
        }
    }

    @SuppressWarnings("unchecked")
    private static void assertGradients(Map<String, Object> reference, TrainableEncoder model) {
        Map<String, Object> gradients = (Map<String, Object>) reference.get("gradients");
        Map<String, float[]> ours = model.huggingFaceTensors(true);
        assertEquals(new java.util.TreeSet<>(gradients.keySet()), new java.util.TreeSet<>(ours.keySet()));
        for (var e : gradients.entrySet()) assertClose(Json.toFloatArray(e.getValue()), ours.get(e.getKey()), 1e-5, 1e-4, "d " + e.getKey());
    }

    private static double number(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).doubleValue();
    }

    @Test
    void maskedLmMatchesPyTorch() throws IOException {
        TrainableEncoder model = open("tiny", TrainableEncoder.Heads.maskedLmOnly());
        Map<String, Object> mlm = object("mlm");
        int rows = inputs.length;
        int[] all = java.util.stream.IntStream.range(0, rows).toArray();
        float[] logits = model.maskedLmLogits(inputs, lengths, all);
        assertClose(Json.toFloatArray(fixture.get("hidden")), model.hidden(), 1e-4, 0, "encoder output");
        assertClose(Json.toFloatArray(mlm.get("logits")), logits, 1e-4, 0, "logits");
        model.zeroGrad();
        float loss = model.forward(inputs, lengths, mlmLabels, null, 0);
        assertEquals(number(mlm, "loss"), loss, 1e-5);
        model.backward(1f);
        assertGradients(mlm, model);
    }

    @Test
    void maskedLmWithSentenceOrderMatchesPyTorch() throws IOException {
        TrainableEncoder model = open("tiny", TrainableEncoder.Heads.maskedLmAndSentencePairs());
        Map<String, Object> sop = object("mlm_sop");
        model.zeroGrad();
        float loss = model.forward(inputs, lengths, mlmLabels, Json.toIntArray(fixture.get("sop_labels")), 0);
        assertEquals(number(sop, "mlm_loss"), model.lastMaskedLmLoss(), 1e-5);
        assertEquals(number(sop, "sop_loss"), model.lastSentenceLoss(), 1e-5);
        assertEquals(number(sop, "loss"), loss, 1e-5);
        model.backward(1f);
        assertGradients(sop, model);
        assertClose(Json.toFloatArray(sop.get("sop_logits")), model.sentenceLogits(inputs, lengths), 1e-4, 0, "sop logits");
    }

    @Test
    void sequenceClassificationMatchesPyTorch() throws IOException {
        TrainableEncoder model = open("tiny-classifier", TrainableEncoder.Heads.classifier(2));
        Map<String, Object> classify = object("classify");
        model.zeroGrad();
        float loss = model.forward(inputs, lengths, null, Json.toIntArray(fixture.get("class_labels")), 0);
        assertEquals(number(classify, "loss"), loss, 1e-5);
        model.backward(1f);
        assertGradients(classify, model);
        assertClose(Json.toFloatArray(classify.get("logits")), model.sentenceLogits(inputs, lengths), 1e-4, 0, "logits");
    }
}
