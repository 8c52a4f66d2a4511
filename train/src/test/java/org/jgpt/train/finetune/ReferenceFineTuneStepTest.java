package org.jgpt.train.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;
import org.jgpt.train.RepoFiles;
import org.jgpt.model.GPT2Config;
import org.jgpt.train.Parameter;
import org.jgpt.train.TrainableGPT2;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * One fine-tuning step of a tiny GPT-2 against PyTorch (scripts/reference/make_finetune_fixture.py), for each task
 * (and of a tiny GPT-1, post-LN without ln_f, for classification and similarity):
 * the input transformation (PyTorch frames the token segments itself), the task loss, the LM loss, the total loss
 * with λ = 0.5 and with λ = 0, and the gradients (all of them with λ = 0.5; the head's, wte's and one block's with
 * λ = 0). Dropout is off. Tolerance: |jgpt - torch| ≤ 1e-5 + 1e-4·|torch| for gradients, 1e-5 for losses (float32
 * on both sides, different summation order, jgpt pads the sequences to one length where PyTorch runs each alone).
 */
class ReferenceFineTuneStepTest {
    private static Map<String, Object> fixture;

    @BeforeAll
    static void readFixture() throws IOException {
        fixture = Json.parseObject(Files.readString(RepoFiles.find("data/fixtures/finetune/step.json")));
    }


    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Map<String, Object> from, String key) {
        return (Map<String, Object>) from.get(key);
    }

    private static int integer(Map<String, Object> from, String key) {
        return ((Number) from.get(key)).intValue();
    }

    @ParameterizedTest
    @CsvSource({"gpt2, classification, 0.5", "gpt2, classification, 0.0", "gpt2, entailment, 0.5", "gpt2, entailment, 0.0",
            "gpt2, similarity, 0.5", "gpt2, similarity, 0.0", "gpt2, choice, 0.5", "gpt2, choice, 0.0",
            "gpt1, classification, 0.5", "gpt1, classification, 0.0", "gpt1, similarity, 0.5", "gpt1, similarity, 0.0"})
    @SuppressWarnings("unchecked")
    void lossesAndGradientsMatchPyTorch(String modelName, String taskName, float lambda) {
        Task task = Task.parse(taskName);
        Map<String, Object> c = object(fixture, "config");
        int nEmbd = integer(c, "n_embd");
        float eps = ((Number) c.get("layer_norm_epsilon")).floatValue();
        boolean gpt1 = modelName.equals("gpt1");
        GPT2Config config = gpt1
                ? GPT2Config.gpt1(integer(c, "vocab_size"), integer(c, "n_positions"), nEmbd, integer(c, "n_layer"), integer(c, "n_head"), eps)
                : new GPT2Config(integer(c, "vocab_size"), integer(c, "n_positions"), nEmbd, integer(c, "n_layer"),
                        integer(c, "n_head"), 4 * nEmbd, eps, "gelu_new", true, false, 63, 63);
        Map<String, Object> reference = gpt1 ? object(fixture, "gpt1") : fixture;
        InputTransform transform = new InputTransform(integer(fixture, "start"), integer(fixture, "delimiter"),
                integer(fixture, "extract"), integer(fixture, "max_length"));
        Map<String, Object> record = object(object(reference, "tasks"), taskName);
        List<Map<String, Object>> examples = (List<Map<String, Object>>) record.get("examples");

        List<TaskModel.Encoded> encoded = new ArrayList<>();
        int answers = 0;
        for (Map<String, Object> e : examples) {
            List<int[]> texts = new ArrayList<>();
            for (Object t : (List<?>) e.get("texts")) texts.add(Json.toIntArray(t));
            answers = texts.size() - 1;
            InputTransform.Sequences s = transform.apply(task, texts);
            encoded.add(new TaskModel.Encoded(s.sequences(), integer(e, "label"), s.truncated()));
        }
        int classes = task == Task.CHOICE ? answers : integer(record, "head_outputs");
        List<String> labels = new ArrayList<>();
        for (int k = 0; k < classes; k++) labels.add(Integer.toString(k));
        var spec = new TaskModel.Spec(task, labels, task == Task.CHOICE ? answers : 0, transform);
        TaskModel model = new TaskModel(config, spec, encoded.size(), TaskModel.longest(encoded), 0f, 0f);
        Map<String, Object> parameters = object(reference, "parameters");
        for (Parameter p : model.parameters()) {
            float[] values = Json.toFloatArray(p.name().equals("score.weight") ? record.get("head") : parameters.get(p.name()));
            assertEquals(p.value().length, values.length, p.name());
            System.arraycopy(values, 0, p.value(), 0, values.length);
        }

        Map<String, Object> expected = object(record, "lambda=" + lambda);
        model.zeroGrad();
        TaskModel.Losses losses = model.trainStep(encoded, lambda, 1f, 0);
        assertEquals(((Number) expected.get("task_loss")).doubleValue(), losses.task(), 1e-5, "task loss");
        if (lambda > 0) assertEquals(((Number) expected.get("lm_loss")).doubleValue(), losses.lm(), 1e-5, "LM loss");
        assertEquals(((Number) expected.get("loss")).doubleValue(), losses.task() + lambda * losses.lm(), 1e-5, "loss");
        Map<String, Object> gradients = object(expected, "gradients");
        int checked = 0;
        for (Parameter p : model.parameters()) {
            if (!gradients.containsKey(p.name())) continue;
            float[] want = Json.toFloatArray(gradients.get(p.name()));
            assertEquals(want.length, p.grad().length, p.name());
            for (int i = 0; i < want.length; i++) {
                double tolerance = 1e-5 + 1e-4 * Math.abs(want[i]);
                assertTrue(Math.abs(want[i] - p.grad()[i]) <= tolerance,
                        modelName + " " + taskName + " λ=" + lambda + " d " + p.name() + "[" + i + "]: torch " + want[i] + ", jgpt " + p.grad()[i]);
            }
            checked++;
        }
        assertEquals(gradients.size(), checked, "every gradient in the fixture was compared");
    }
}
