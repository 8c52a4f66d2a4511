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
 * One fine-tuning step of an encoder classifier against PyTorch, for RoBERTa and for ELECTRA:
 * <ul>
 *   <li>RoBERTa: the "classify" case of data/fixtures/encoder/step.json (tiny-classifier as
 *       RobertaForSequenceClassification, written out after Hugging Face; see that folder's README). Its two rows are
 *       rebuilt from their texts' token ids by RoBERTa's framing ({@code <s> ids </s>}).</li>
 *   <li>ELECTRA: data/fixtures/electra/classify.json (tiny-classifier as ElectraForSequenceClassification, the
 *       rtd fixture's discriminator body with a classifier head; scripts/reference/make_electra_fixture.py). Its rows,
 *       a pair {@code <s> a </s></s> b </s>} of 8 tokens and a single text of 5, are framed from the fixture's texts and
 *       must equal PyTorch's input; the logits before the step match within 1e-4.</li>
 * </ul>
 * Each row is right-padded by EncoderTaskModel and run through its training step, dropout off, with the fixture's
 * special ids. The loss and every gradient match within EncoderReferenceTest's tolerances (1e-5 for the loss;
 * 1e-5 + 1e-4·|torch| for gradients), whether both examples run in one forward, or one per forward of two rows, each
 * weighted by half (gradient accumulation over micro-batches; the forward's unused row must not count).
 */
class EncoderReferenceFineTuneStepTest {
    private static final RobertaTokens FIXTURE_TOKENS = new RobertaTokens(0, 1, 2, 3, 63);

    @ParameterizedTest
    @ValueSource(ints = {2, 1})
    @SuppressWarnings("unchecked")
    void robertaLossAndGradientsMatchPyTorch(int examplesPerStep) throws IOException {
        Map<String, Object> fixture = Json.parseObject(Files.readString(RepoFiles.find("data/fixtures/encoder/step.json")));
        int seqLen = ((Number) fixture.get("seq_len")).intValue();
        int[] inputs = Json.toIntArray(fixture.get("inputs"));
        int[] lengths = Json.toIntArray(fixture.get("lengths"));
        var spec = new EncoderTaskModel.Spec(Task.CLASSIFICATION, List.of("ham", "spam"), new RobertaInput(FIXTURE_TOKENS, seqLen));
        List<List<int[]>> texts = new ArrayList<>();
        for (int b = 0; b < lengths.length; b++) texts.add(List.of(Arrays.copyOfRange(inputs, b * seqLen + 1, b * seqLen + lengths[b] - 1)));
        List<TaskModel.Encoded> examples = framedAsPyTorch(spec, texts, fixture);

        var model = EncoderTaskModel.fromPretrained(RepoFiles.find("data/fixtures/encoder/tiny-classifier"), spec,
                2, seqLen, 0f, 0);
        assertStepMatches(model, examples, examplesPerStep, (Map<String, Object>) fixture.get("classify"));
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 1})
    @SuppressWarnings("unchecked")
    void electraLogitsLossAndGradientsMatchPyTorch(int examplesPerStep) throws IOException {
        Map<String, Object> fixture = Json.parseObject(Files.readString(RepoFiles.find("data/fixtures/electra/classify.json")));
        int seqLen = ((Number) fixture.get("seq_len")).intValue();
        var spec = new EncoderTaskModel.Spec(Task.CLASSIFICATION, List.of("ham", "spam"), new RobertaInput(FIXTURE_TOKENS, seqLen));
        List<List<int[]>> texts = new ArrayList<>();
        for (Object row : (List<Object>) fixture.get("texts")) {
            texts.add(((List<Object>) row).stream().map(Json::toIntArray).toList());
        }
        List<TaskModel.Encoded> examples = framedAsPyTorch(spec, texts, fixture);

        var model = EncoderTaskModel.fromPretrained(RepoFiles.find("data/fixtures/electra/tiny-classifier"), spec,
                2, seqLen, 0f, 0);
        float[] logits = model.classifier().sentenceLogits(Json.toIntArray(fixture.get("inputs")),
                Json.toIntArray(fixture.get("lengths")));
        float[] torchLogits = Json.toFloatArray(fixture.get("logits"));
        for (int i = 0; i < torchLogits.length; i++) assertEquals(torchLogits[i], logits[i], 1e-4, "logit " + i);
        assertStepMatches(model, examples, examplesPerStep, fixture);
    }

    /** The examples of {@code texts} (each one or two texts' ids), framed; each must be the fixture's input row. */
    private static List<TaskModel.Encoded> framedAsPyTorch(EncoderTaskModel.Spec spec, List<List<int[]>> texts,
                                                          Map<String, Object> fixture) {
        int seqLen = ((Number) fixture.get("seq_len")).intValue();
        int[] inputs = Json.toIntArray(fixture.get("inputs"));
        int[] lengths = Json.toIntArray(fixture.get("lengths"));
        int[] classes = Json.toIntArray(fixture.get("class_labels"));
        List<TaskModel.Encoded> examples = new ArrayList<>();
        for (int b = 0; b < texts.size(); b++) {
            InputTransform.Sequences framed = spec.input().apply(texts.get(b));
            int[] row = Arrays.copyOfRange(inputs, b * seqLen, b * seqLen + lengths[b]);
            assertArrayEquals(row, framed.sequences()[0], "row " + b + " framed as PyTorch's input");
            examples.add(new TaskModel.Encoded(framed.sequences(), classes[b], framed.truncated()));
        }
        return examples;
    }

    /** One step over {@code examples}, {@code examplesPerStep} a forward: the loss and every gradient as PyTorch's. */
    @SuppressWarnings("unchecked")
    private static void assertStepMatches(EncoderTaskModel model, List<TaskModel.Encoded> examples, int examplesPerStep,
                                          Map<String, Object> reference) {
        model.zeroGrad();
        double loss = 0;
        for (int from = 0; from < examples.size(); from += examplesPerStep) {
            List<TaskModel.Encoded> part = examples.subList(from, from + examplesPerStep);
            float share = (float) part.size() / examples.size();
            loss += share * model.trainStep(part, 0f, share, 0).task();
        }
        assertEquals(((Number) reference.get("loss")).doubleValue(), loss, 1e-5);
        Map<String, Object> gradients = (Map<String, Object>) reference.get("gradients");
        Map<String, float[]> ours = model.classifier().huggingFaceTensors(true);
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
