package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;
import org.jgpt.io.Safetensors;
import org.jgpt.model.EncoderConfig;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tlm through the training loop, on the first 100 English-French pairs of the Debian corpus: a stopped and resumed
 * run equals the uninterrupted one bit for bit (across an epoch's end, validation included); the run folder is a
 * RobertaForMaskedLM folder with two token types that names its languages; a run can start from a masked-LM encoder,
 * whose single token type becomes both languages'; bad data and settings are refused before anything is written.
 */
class TranslationLmTrainingTest {
    @TempDir
    static Path dir;
    private static Path pairs;
    private static GPT2Tokenizer tokenizer;
    private static EncoderConfig model;

    @BeforeAll
    static void writeData() throws IOException {
        List<String> lines = EncoderFixtures.englishFrenchPairs();
        pairs = Files.write(dir.resolve("pairs.jsonl"), lines);
        tokenizer = EncoderFixtures.bilingualTokenizer(lines);
        model = EncoderConfig.roberta(tokenizer.vocabSize(), 32, 16, 2, 2);
    }

    /** 15 steps of 2 micro-batches of 4 pairs: 30 batches, past the 23 that one epoch of 95 pairs fills. */
    private static TrainConfig config(Path data, List<String> fields) {
        return new TrainConfig(data.toString(), 4, 32, 2, 15, 3e-3, 3e-4, 2, 0.01, true, 0.9, 0.999, 1.0, 0.1, 5, 1, 0,
                42, "tlm", 0.15, 0.05, "mean", fields);
    }

    @Test
    void resumedRunEqualsUninterruptedRun() throws IOException {
        TrainConfig config = config(pairs, List.of("en", "fr"));
        EncoderFixtures.Recorder whole = new EncoderFixtures.Recorder();
        try (Trainer trainer = Trainer.start(config, model, tokenizer, dir.resolve("whole"))) {
            trainer.run(whole, () -> false);
        }
        EncoderFixtures.Recorder split = new EncoderFixtures.Recorder();
        try (Trainer first = Trainer.start(config, model, tokenizer, dir.resolve("split"))) {
            first.run(split, () -> split.values.size() >= 5); // stops after step 5, a validation step
        }
        try (Trainer second = Trainer.resume(dir.resolve("split"))) {
            assertEquals(5, second.step());
            second.run(split, () -> false);
        }
        assertEquals(whole.values, split.values);
        assertEquals(15 + 3 * 2, whole.values.size(), "a loss per step, loss and accuracy per validation: " + whole.values);
        assertTrue(whole.values.stream().allMatch(Double::isFinite), whole.values.toString());
        try (var a = Safetensors.open(dir.resolve("whole/model.safetensors"));
             var b = Safetensors.open(dir.resolve("split/model.safetensors"))) {
            for (String tensor : a.names()) assertArrayEquals(a.tensor(tensor).toFloatArray(), b.tensor(tensor).toFloatArray(), tensor);
        }
    }

    @Test
    void savedModelIsAMaskedLmWithALanguageEmbeddingPerLanguage() throws IOException {
        Path out = dir.resolve("saved");
        try (Trainer trainer = Trainer.start(config(pairs, List.of("en", "fr")), model, tokenizer, out)) {
            assertTrue(trainer.describe().startsWith("tlm masking 0.15 of tokens, en-fr pairs: 95 training and 5 held-out"),
                    trainer.describe());
            trainer.run(new Trainer.Listener() {}, () -> true);
        }
        Map<String, Object> json = Json.parseObject(Files.readString(out.resolve("config.json")));
        assertEquals(List.of("RobertaForMaskedLM"), json.get("architectures"));
        assertEquals(2L, json.get("type_vocab_size"));
        assertEquals(List.of("en", "fr"), json.get(TranslationLm.LANGUAGES_KEY));
        assertEquals(List.of("en", "fr"), TranslationLm.languages(out).orElseThrow());
        try (Safetensors file = Safetensors.open(out.resolve("model.safetensors"))) {
            assertArrayEquals(new long[] {2, 16}, file.tensor("roberta.embeddings.token_type_embeddings.weight").shape());
            assertTrue(file.names().contains("lm_head.bias"), file.names().toString());
        }
        assertEquals(tokenizer.vocabSize(), GPT2Tokenizer.fromDirectory(out).vocabSize());
    }

    @Test
    void startsFromAMaskedLmEncoderWhoseTokenTypeBecomesBothLanguages() throws IOException {
        TrainableEncoder pretrained = new TrainableEncoder(model, TrainableEncoder.Heads.maskedLmOnly(), 1, 32, 0f);
        pretrained.initialize(7);
        Path init = dir.resolve("mlm");
        pretrained.save(init, Map.of());
        tokenizer.save(init);
        Path out = dir.resolve("from-mlm");
        try (Trainer trainer = Trainer.startFrom(config(pairs, List.of("en", "fr")), init, out)) {
            Map<String, float[]> started = trainer.encoder().huggingFaceTensors(false);
            Map<String, float[]> saved = pretrained.huggingFaceTensors(false);
            assertEquals(saved.keySet(), started.keySet());
            String types = "roberta.embeddings.token_type_embeddings.weight";
            for (String name : started.keySet()) if (!name.equals(types)) assertArrayEquals(saved.get(name), started.get(name), name);
            float[] savedType = saved.get(types);
            assertEquals(16, savedType.length);
            assertArrayEquals(savedType, Arrays.copyOfRange(started.get(types), 0, 16), "language 0");
            assertArrayEquals(savedType, Arrays.copyOfRange(started.get(types), 16, 32), "language 1");
            trainer.run(new Trainer.Listener() {}, () -> true);
        }
        assertEquals(List.of("en", "fr"), TranslationLm.languages(out).orElseThrow());
    }

    @Test
    void aPairWithAMissingFieldIsRefusedWithItsLineAndNothingIsWritten() throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(pairs));
        lines.set(6, "{\"en\": \"Cannot open file\", \"package\": \"x\"}");
        Path broken = Files.write(dir.resolve("broken.jsonl"), lines);
        Path out = dir.resolve("broken-run");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.start(config(broken, List.of("en", "fr")), model, tokenizer, out));
        assertEquals(broken + ":7: missing field 'fr'", e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void badSettingsAreRefused() {
        // pairs need two fields
        assertThrows(IllegalArgumentException.class,
                () -> Trainer.start(config(pairs, List.of("en")), model, tokenizer, dir.resolve("x")));
        // no tokenizer to read the text with
        assertThrows(IllegalArgumentException.class, () -> Trainer.start(config(pairs, List.of("en", "fr")), model, dir.resolve("x")));
        assertFalse(Files.exists(dir.resolve("x")));
    }
}
