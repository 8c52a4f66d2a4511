package org.jgpt.train.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jgpt.io.Json;
import org.jgpt.tokenizer.RobertaTokens;
import org.jgpt.train.RepoFiles;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One fine-tuning step of an encoder classifier against PyTorch: the "classify" case of data/fixtures/encoder/step.json
 * (tiny-classifier as RobertaForSequenceClassification, written out after Hugging Face; see that folder's README).
 * The fixture's two rows are rebuilt from their texts' token ids by RoBERTa's framing ({@code <s> ids </s>}, the
 * fixture's special ids), right-padded by EncoderTaskModel and run through its training step, dropout off. The loss
 * and every gradient match within EncoderReferenceTest's tolerances (1e-5 for the loss; 1e-5 + 1e-4·|torch| for
 * gradients), whether both examples run in one forward, or one per forward of two rows, each weighted by half
 * (gradient accumulation over micro-batches; the forward's unused row must not count).
 */
class EncoderReferenceFineTuneStepTest {
    private static final RobertaTokens FIXTURE_TOKENS = new RobertaTokens(0, 1, 2, 3, 63);

    @SuppressWarnings("unchecked")
    @ParameterizedTest
    @ValueSource(ints = {2, 1})
    void lossAndGradientsMatchPyTorch(int examplesPerStep) throws IOException {
        Map<String, Object> fixture = Json.parseObject(Files.readString(RepoFiles.find("data/fixtures/encoder/step.json")));
        int seqLen = ((Number) fixture.get("seq_len")).intValue();
        int[] inputs = Json.toIntArray(fixture.get("inputs"));
        int[] lengths = Json.toIntArray(fixture.get("lengths"));
        int[] classes = Json.toIntArray(fixture.get("class_labels"));
        var spec = new EncoderTaskModel.Spec(Task.CLASSIFICATION, List.of("ham", "spam"), new RobertaInput(FIXTURE_TOKENS, seqLen));
        List<TaskModel.Encoded> examples = new ArrayList<>();
        for (int b = 0; b < lengths.length; b++) {
            int[] row = Arrays.copyOfRange(inputs, b * seqLen, b * seqLen + lengths[b]);
            int[] text = Arrays.copyOfRange(row, 1, row.length - 1);
            InputTransform.Sequences framed = spec.input().apply(List.of(text));
            assertArrayEquals(row, framed.sequences()[0], "row " + b + " framed as PyTorch's input");
            examples.add(new TaskModel.Encoded(framed.sequences(), classes[b], framed.truncated()));
        }

        var model = EncoderTaskModel.fromPretrained(RepoFiles.find("data/fixtures/encoder/tiny-classifier"), spec,
                2, seqLen, 0f, 0);
        model.zeroGrad();
        double loss = 0;
        for (int from = 0; from < examples.size(); from += examplesPerStep) {
            List<TaskModel.Encoded> part = examples.subList(from, from + examplesPerStep);
            float share = (float) part.size() / examples.size();
            loss += share * model.trainStep(part, 0f, share, 0).task();
        }

        Map<String, Object> classify = (Map<String, Object>) fixture.get("classify");
        assertEquals(((Number) classify.get("loss")).doubleValue(), loss, 1e-5);
        Map<String, Object> gradients = (Map<String, Object>) classify.get("gradients");
        Map<String, float[]> ours = model.encoder().huggingFaceTensors(true);
        assertEquals(new TreeSet<>(gradients.keySet()), new TreeSet<>(ours.keySet()));
        for (var e : gradients.entrySet()) {
            float[] torch = Json.toFloatArray(e.getValue());
            float[] jgpt = ours.get(e.getKey());
            for (int i = 0; i < torch.length; i++) {
                double tolerance = 1e-5 + 1e-4 * Math.abs(torch[i]);
                assertTrue(Math.abs(torch[i] - jgpt[i]) <= tolerance,
                        "d " + e.getKey() + "[" + i + "]: torch " + torch[i] + ", jgpt " + jgpt[i]);
            }
        }
    }
}
