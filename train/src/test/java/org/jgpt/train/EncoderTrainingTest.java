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
import java.util.Set;
import java.util.TreeSet;
import org.jgpt.io.Json;
import org.jgpt.io.Safetensors;
import org.jgpt.model.EncoderConfig;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Masked objectives through the training loop: a stopped and resumed mlm+sop run equals the uninterrupted one bit for
 * bit (masks, pairs and dropout are functions of seed and step); the saved folder carries RoBERTa's config keys and
 * exactly Hugging Face's RobertaForMaskedLM tensor names (plus the sentence-order head); bad settings are refused;
 * {@link MaskedLmEvaluation} of the saved model gives the figures of training's last validation; a run can start
 * from a saved encoder, taking its weights and a fresh sentence-order head, but not from one without a masked-LM head.
 */
class EncoderTrainingTest {
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

    private static TrainConfig config(String objective, double maskRate) {
        return new TrainConfig(data.toString(), 2, 24, 2, 6, 3e-3, 3e-4, 2, 0.1, true, 0.9, 0.98, 1.0, 0.1, 3, 2, 0, 42,
                objective, maskRate, 0.05, "mean", List.of());
    }

    @Test
    void resumedMaskedRunEqualsUninterruptedRun() throws IOException {
        EncoderFixtures.Recorder whole = new EncoderFixtures.Recorder();
        try (Trainer trainer = Trainer.start(config("mlm+sop", 0.15), model, dir.resolve("whole"))) {
            trainer.run(whole, () -> false);
        }
        EncoderFixtures.Recorder split = new EncoderFixtures.Recorder();
        try (Trainer first = Trainer.start(config("mlm+sop", 0.15), model, dir.resolve("split"))) {
            first.run(split, () -> split.values.size() >= 3);
        }
        try (Trainer second = Trainer.resume(dir.resolve("split"))) {
            assertEquals(3, second.step());
            second.run(split, () -> false);
        }
        assertEquals(whole.values, split.values);
        assertTrue(whole.values.stream().allMatch(v -> Double.isFinite(v)), whole.values.toString());
        try (var a = Safetensors.open(dir.resolve("whole/model.safetensors"));
             var b = Safetensors.open(dir.resolve("split/model.safetensors"))) {
            for (String name : a.names()) assertArrayEquals(a.tensor(name).toFloatArray(), b.tensor(name).toFloatArray(), name);
        }
    }

    @Test
    void savedEncoderHasRobertasConfigAndTensorNames() throws IOException {
        Path out = dir.resolve("names");
        try (Trainer trainer = Trainer.start(config("wwm", 0.4), model, out)) {
            trainer.run(new Trainer.Listener() {}, () -> true);
        }
        Map<String, Object> json = Json.parseObject(Files.readString(out.resolve("config.json")));
        assertEquals("roberta", json.get("model_type"));
        assertEquals(List.of("RobertaForMaskedLM"), json.get("architectures"));
        assertEquals(26L, json.get("max_position_embeddings"));
        assertEquals("gelu", json.get("hidden_act"));
        Set<String> expected = new TreeSet<>(List.of("roberta.embeddings.word_embeddings.weight",
                "roberta.embeddings.position_embeddings.weight", "roberta.embeddings.token_type_embeddings.weight",
                "roberta.embeddings.LayerNorm.weight", "roberta.embeddings.LayerNorm.bias", "lm_head.dense.weight",
                "lm_head.dense.bias", "lm_head.layer_norm.weight", "lm_head.layer_norm.bias", "lm_head.bias"));
        for (int l = 0; l < 2; l++) {
            String p = "roberta.encoder.layer." + l + ".";
            for (String linear : List.of("attention.self.query", "attention.self.key", "attention.self.value",
                    "attention.output.dense", "intermediate.dense", "output.dense", "attention.output.LayerNorm",
                    "output.LayerNorm")) {
                expected.add(p + linear + ".weight");
                expected.add(p + linear + ".bias");
            }
        }
        try (Safetensors file = Safetensors.open(out.resolve("model.safetensors"))) {
            assertEquals(expected, new TreeSet<>(file.names()));
            assertArrayEquals(new long[] {64, 16}, file.entry("roberta.encoder.layer.0.intermediate.dense.weight").shape());
        }
    }

    @Test
    void maskedLmEvaluationOfTheSavedModelEqualsTrainingsLastValidation() throws IOException {
        EncoderFixtures.Recorder recorder = new EncoderFixtures.Recorder();
        Path out = dir.resolve("evaluated");
        try (Trainer trainer = Trainer.start(config("mlm", 0.15), model, out)) {
            trainer.run(recorder, () -> false);
        }
        List<Double> v = recorder.values;
        MaskedLmEvaluation.Result r = MaskedLmEvaluation.run(out, data, "mlm", 0.15, 2, 24, 42, 2);
        assertEquals(-v.get(v.size() - 2), r.loss(), 0.0);
        assertEquals(v.getLast(), r.accuracy(), 0.0);
        assertEquals(2, r.batches());
        assertThrows(IllegalArgumentException.class, () -> MaskedLmEvaluation.run(out, data, "mlm+sop", 0.15, 2, 24, 42, 2));
        assertThrows(IllegalArgumentException.class, () -> MaskedLmEvaluation.run(out, data, "mlm", 0.15, 2, 25, 42, 2));
    }

    @Test
    void startsFromASavedEncoder() throws IOException {
        Path mlm = dir.resolve("init-mlm");
        try (Trainer trainer = Trainer.start(config("mlm", 0.15), model, mlm)) {
            trainer.run(new Trainer.Listener() {}, () -> true);
        }
        TrainableEncoder saved = TrainableEncoder.open(mlm, TrainableEncoder.Heads.maskedLmOnly(), 1, 24, 0f, false, 0);
        try (Trainer trainer = Trainer.startFrom(config("mlm+sop", 0.15), mlm, dir.resolve("from-mlm"))) {
            Map<String, float[]> started = trainer.encoder().huggingFaceTensors(false);
            for (var e : saved.huggingFaceTensors(false).entrySet()) assertArrayEquals(e.getValue(), started.get(e.getKey()), e.getKey());
            assertTrue(started.containsKey("sop_classifier.dense.weight"));
            trainer.run(new Trainer.Listener() {}, () -> true);
        }
        Path sentences = Files.writeString(dir.resolve("sentences.txt"), "one sentence\nanother one\na third\n");
        TrainConfig simcse = new TrainConfig(sentences.toString(), 2, 24, 1, 1, 3e-3, 3e-4, 0, 0.1, true, 0.9, 0.98, 1.0,
                0.1, 0, 1, 0, 42, "simcse", 0.15, 0.05, "mean", List.of());
        Path sentenceEncoder = dir.resolve("init-simcse");
        try (Trainer trainer = Trainer.startFrom(simcse, mlm, sentenceEncoder)) {
            trainer.run(new Trainer.Listener() {}, () -> true);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.startFrom(config("mlm", 0.15), sentenceEncoder, dir.resolve("no-head")));
        assertTrue(e.getMessage().contains("it has no masked-LM head"), e.getMessage());
    }

    @Test
    void unknownObjectivesAndRatesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> config("mlm+xyz", 0.15));
        assertThrows(IllegalArgumentException.class, () -> config("bert", 0.15));
        assertThrows(IllegalArgumentException.class, () -> config("mlm", 0));
        assertThrows(IllegalArgumentException.class, () -> config("mlm", 1));
    }
}
