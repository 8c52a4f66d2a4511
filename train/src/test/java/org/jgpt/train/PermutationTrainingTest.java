package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jgpt.io.Json;
import org.jgpt.io.Safetensors;
import org.jgpt.model.EncoderConfig;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * plm through the training loop: a stopped and resumed run equals the uninterrupted one bit for bit (orders and
 * dropout are functions of seed and step), metrics and saved tensors alike; the saved folder holds RoBERTa's tensors,
 * lm_head and mask_emb, its config.json says plm, and the body opens as a RoBERTa encoder; an odd sequence length
 * and a start from a saved encoder are refused before anything is written.
 */
class PermutationTrainingTest {
    @TempDir
    static Path dir;
    private static Path data;
    private static EncoderConfig model;

    @BeforeAll
    static void prepareCorpus() throws IOException {
        GPT2Tokenizer tokenizer = EncoderFixtures.prepareMobyDick(dir);
        data = dir.resolve("data");
        model = EncoderConfig.roberta(tokenizer.vocabSize(), 24, 16, 2, 2);
    }

    private static TrainConfig config(int seqLen) {
        return new TrainConfig(data.toString(), 2, seqLen, 2, 6, 3e-3, 3e-4, 2, 0.01, true, 0.9, 0.999, 1.0, 0.1, 3, 2,
                0, 42, "plm", 0.15, 0.05, "mean", List.of(), 0.25, 50);
    }

    @Test
    void resumedRunEqualsUninterruptedRun() throws IOException {
        EncoderFixtures.Recorder whole = new EncoderFixtures.Recorder();
        try (Trainer trainer = Trainer.start(config(24), model, dir.resolve("whole"))) {
            trainer.run(whole, () -> false);
        }
        EncoderFixtures.Recorder split = new EncoderFixtures.Recorder();
        try (Trainer first = Trainer.start(config(24), model, dir.resolve("split"))) {
            first.run(split, () -> split.values.size() >= 3);
        }
        try (Trainer second = Trainer.resume(dir.resolve("split"))) {
            assertEquals(3, second.step());
            second.run(split, () -> false);
        }
        assertEquals(whole.values, split.values);
        assertTrue(whole.values.stream().allMatch(Double::isFinite), whole.values.toString());
        try (var x = Safetensors.open(dir.resolve("whole/model.safetensors"));
             var y = Safetensors.open(dir.resolve("split/model.safetensors"))) {
            assertEquals(new TreeSet<>(x.names()), new TreeSet<>(y.names()));
            for (String name : x.names()) assertArrayEquals(x.tensor(name).toFloatArray(), y.tensor(name).toFloatArray(), name);
            assertTrue(x.names().contains("mask_emb") && x.names().contains("lm_head.bias")
                    && x.names().contains("roberta.encoder.layer.1.attention.self.query.weight"), x.names().toString());
        }
        Map<String, Object> saved = Json.parseObject(Files.readString(dir.resolve("whole/config.json")));
        assertEquals("plm", saved.get("jgpt_objective"));
        assertEquals("roberta", saved.get("model_type"));
        TrainableEncoder body = TrainableEncoder.open(dir.resolve("whole"), TrainableEncoder.Heads.classifier(2), 1, 8,
                0f, true, 0);
        assertEquals(16, body.config().hiddenSize());
    }

    @Test
    void badSettingsAreRefusedBeforeAnythingIsWritten() {
        Path odd = dir.resolve("odd");
        var e = assertThrows(IllegalArgumentException.class, () -> Trainer.start(config(23), model, odd));
        assertTrue(e.getMessage().contains("even"), e.getMessage());
        assertFalse(Files.exists(odd.resolve("metrics.csv")));
        var init = assertThrows(IllegalArgumentException.class,
                () -> Trainer.startFrom(config(24), RepoFiles.find("data/fixtures/encoder/tiny"), dir.resolve("init")));
        assertTrue(init.getMessage().contains("starts from scratch"), init.getMessage());
    }
}
