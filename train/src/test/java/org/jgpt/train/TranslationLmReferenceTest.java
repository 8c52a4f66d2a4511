package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jgpt.io.Json;
import org.jgpt.tokenizer.RobertaTokens;
import org.jgpt.train.objective.TranslationPairs;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One tlm step against PyTorch (scripts/reference/make_tlm_fixture.py): a tiny encoder with two token types
 * (data/fixtures/tlm/tiny), three rows of a sentence and its translation, right-padded, masked at fixed positions in
 * both segments, dropout off. jgpt's rows (framing, language ids, restarted positions) equal the reference's, written
 * out position by position there; the encoder's output is within 1e-4, the loss within 1e-5 and every gradient within
 * 1e-5 + 1e-4·|torch|.
 */
class TranslationLmReferenceTest {
    private static Map<String, Object> fixture;
    private static int batch;
    private static int seqLen;

    @BeforeAll
    static void readFixture() throws IOException {
        fixture = Json.parseObject(Files.readString(RepoFiles.find("data/fixtures/tlm/step.json")));
        batch = ((Number) fixture.get("batch")).intValue();
        seqLen = ((Number) fixture.get("seq_len")).intValue();
    }

    private static int[] ints(String key) {
        return Json.toIntArray(fixture.get(key));
    }

    private static void assertClose(float[] expected, float[] actual, double absolute, double relative, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            double tolerance = absolute + relative * Math.abs(expected[i]);
            assertTrue(Math.abs(expected[i] - actual[i]) <= tolerance, what + "[" + i + "]: torch " + expected[i] + ", jgpt " + actual[i]);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void rowsAreTheReferenceLayout() {
        TranslationPairs rows = new TranslationPairs(new RobertaTokens(0, 1, 2, 3, 63), seqLen);
        int[] inputs = new int[batch * seqLen], types = new int[batch * seqLen], positions = new int[batch * seqLen];
        int[] lengths = new int[batch];
        List<Map<String, Object>> segments = (List<Map<String, Object>>) fixture.get("segments");
        for (int row = 0; row < batch; row++) {
            Map<String, Object> s = segments.get(row);
            int[] languages = Json.toIntArray(s.get("languages"));
            TranslationPairs.Pair pair = rows.fit(Json.toIntArray(s.get("first")), Json.toIntArray(s.get("second")));
            rows.write(row, pair, languages[0], languages[1], inputs, types, positions, lengths);
        }
        assertArrayEquals(ints("original"), inputs);
        assertArrayEquals(ints("token_type_ids"), types);
        assertArrayEquals(ints("position_ids"), positions);
        assertArrayEquals(ints("lengths"), lengths);
    }

    @Test
    @SuppressWarnings("unchecked")
    void stepMatchesPyTorch() throws IOException {
        TrainableEncoder model = TrainableEncoder.open(RepoFiles.find("data/fixtures/tlm/tiny"),
                TrainableEncoder.Heads.maskedLmOnly(), batch, seqLen, 0f, false, 0);
        TrainableEncoder.Segments segments = new TrainableEncoder.Segments(ints("token_type_ids"), ints("position_ids"));
        model.zeroGrad();
        float loss = model.forward(ints("inputs"), ints("lengths"), segments, ints("mlm_labels"), null, 0);
        assertClose(Json.toFloatArray(fixture.get("hidden")), model.hidden(), 1e-4, 0, "encoder output");
        assertEquals(((Number) fixture.get("loss")).doubleValue(), loss, 1e-5);
        model.backward(1f);
        Map<String, Object> gradients = (Map<String, Object>) fixture.get("gradients");
        Map<String, float[]> ours = model.huggingFaceTensors(true);
        assertEquals(new TreeSet<>(gradients.keySet()), new TreeSet<>(ours.keySet()));
        for (var e : gradients.entrySet()) assertClose(Json.toFloatArray(e.getValue()), ours.get(e.getKey()), 1e-5, 1e-4, "d " + e.getKey());
        // the language embeddings and restarted positions matter: RoBERTa's own layout gives another loss
        float plain = model.evaluate(ints("inputs"), ints("lengths"), ints("mlm_labels"), null);
        assertTrue(Math.abs(plain - loss) > 1e-3, "the same loss without the segments: " + plain);
    }
}
