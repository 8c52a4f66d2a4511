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
 * simcse and contrastive-pairs through the training loop, on the first 100 English-French pairs of the Debian
 * corpus: a stopped and resumed run equals the uninterrupted one bit for bit (across an epoch's end, validation
 * included); the run folder is a RobertaModel folder whose config.json names its pooling, which
 * {@link SentenceEncoder} then uses; a run can start from a masked-LM encoder's folder, whose encoder it continues
 * and whose head it leaves behind; bad data and settings are refused before anything is written.
 */
class ContrastiveTrainingTest {
    @TempDir
    static Path dir;
    private static Path pairs;
    private static Path sentences;
    private static GPT2Tokenizer tokenizer;
    private static EncoderConfig model;

    @BeforeAll
    static void writeData() throws IOException {
        List<String> lines = EncoderFixtures.englishFrenchPairs();
        pairs = Files.write(dir.resolve("pairs.jsonl"), lines);
        StringBuilder english = new StringBuilder();
        for (String line : lines) english.append(((String) Json.parseObject(line).get("en")).replace('\n', ' ')).append('\n');
        sentences = Files.writeString(dir.resolve("sentences.txt"), english);
        tokenizer = EncoderFixtures.bilingualTokenizer(lines);
        model = EncoderConfig.roberta(tokenizer.vocabSize(), 24, 16, 2, 2);
    }

    /** 15 steps of 2 micro-batches of 4 records: 30 batches, past the 23 that one epoch of 95 records fills. */
    private static TrainConfig config(String objective, Path data, double temperature, String pooling, List<String> fields) {
        return new TrainConfig(data.toString(), 4, 24, 2, 15, 3e-3, 3e-4, 2, 0.01, true, 0.9, 0.999, 1.0, 0.1, 5, 2, 0,
                42, objective, 0.15, temperature, pooling, fields);
    }

    private static TrainConfig pairsConfig() {
        return config("contrastive-pairs", pairs, 0.05, "cls", List.of("en", "fr"));
    }

    private static void assertResumeIsExact(TrainConfig config, String name) throws IOException {
        EncoderFixtures.Recorder whole = new EncoderFixtures.Recorder();
        try (Trainer trainer = Trainer.start(config, model, tokenizer, dir.resolve(name + "-whole"))) {
            trainer.run(whole, () -> false);
        }
        EncoderFixtures.Recorder split = new EncoderFixtures.Recorder();
        try (Trainer first = Trainer.start(config, model, tokenizer, dir.resolve(name + "-split"))) {
            first.run(split, () -> split.values.size() >= 5); // stops after step 5, a validation step
        }
        try (Trainer second = Trainer.resume(dir.resolve(name + "-split"))) {
            assertEquals(5, second.step());
            second.run(split, () -> false);
        }
        assertEquals(whole.values, split.values);
        assertEquals(15 + 3 * 2, whole.values.size(), "a loss per step, loss and accuracy per validation: " + whole.values);
        assertTrue(whole.values.stream().allMatch(Double::isFinite), whole.values.toString());
        try (var a = Safetensors.open(dir.resolve(name + "-whole/model.safetensors"));
             var b = Safetensors.open(dir.resolve(name + "-split/model.safetensors"))) {
            for (String tensor : a.names()) assertArrayEquals(a.tensor(tensor).toFloatArray(), b.tensor(tensor).toFloatArray(), tensor);
        }
    }

    @Test
    void resumedSimcseRunEqualsUninterruptedRun() throws IOException {
        assertResumeIsExact(config("simcse", sentences, 0.05, "mean", List.of()), "simcse");
    }

    @Test
    void resumedPairsRunEqualsUninterruptedRun() throws IOException {
        assertResumeIsExact(pairsConfig(), "pairs");
    }

    /**
     * Batches of 5 from the 95 training sentences: 19 steps see each once, so the steps' tokens sum to both views of
     * every framed sentence, whatever the order; the padding up to the sequence length is not counted.
     */
    @Test
    void throughputCountsTheSentencesTokensNotTheirPadding() throws IOException {
        int seqLen = 24;
        TrainConfig config = new TrainConfig(sentences.toString(), 5, seqLen, 1, 19, 3e-3, 3e-4, 2, 0.01, true, 0.9,
                0.999, 1.0, 0.1, 0, 2, 0, 42, "simcse", 0.15, 0.05, "mean", List.of());
        List<ContrastiveData.Pair> train = ContrastiveData.read(sentences, List.of(), false).train();
        assertEquals(95, train.size());
        long expected = 0;
        for (ContrastiveData.Pair sentence : train) expected += 2 * (Math.min(tokenizer.encode(sentence.anchor()).length, seqLen - 2) + 2);
        List<Long> tokens = new ArrayList<>();
        try (Trainer trainer = Trainer.start(config, model, tokenizer, dir.resolve("throughput"))) {
            trainer.run(new Trainer.Listener() {
                @Override
                public void onStep(Trainer.StepMetrics metrics) {
                    tokens.add(metrics.tokens());
                }
            }, () -> false);
        }
        assertEquals(19, tokens.size());
        assertEquals(expected, tokens.stream().mapToLong(Long::longValue).sum());
        assertTrue(expected < 19 * 2 * 5 * seqLen, "the sentences are padded: " + expected);
    }

    @Test
    void savedSentenceEncoderIsARobertaModelThatNamesItsPooling() throws IOException {
        Path out = dir.resolve("saved");
        try (Trainer trainer = Trainer.start(pairsConfig(), model, tokenizer, out)) {
            trainer.run(new Trainer.Listener() {}, () -> true);
        }
        Map<String, Object> json = Json.parseObject(Files.readString(out.resolve("config.json")));
        assertEquals(List.of("RobertaModel"), json.get("architectures"));
        assertEquals("cls", json.get(Pooling.CONFIG_KEY));
        try (Safetensors file = Safetensors.open(out.resolve("model.safetensors"))) {
            assertTrue(file.names().stream().allMatch(n -> n.startsWith("roberta.")), file.names().toString());
        }
        SentenceEncoder encoder = SentenceEncoder.open(out);
        assertEquals(Pooling.CLS, encoder.pooling());
        List<SentenceEncoder.Embedding> embeddings = encoder.embed(List.of("Cannot open file", "Impossible d'ouvrir le fichier"));
        assertEquals(2, embeddings.size());
        assertEquals(16, embeddings.getFirst().vector().length);
        assertEquals(tokenizer.encode("Cannot open file").length + 2, embeddings.getFirst().tokens());
    }

    @Test
    void startsFromAMaskedLmEncoderAndLeavesItsHeadBehind() throws IOException {
        TrainableEncoder pretrained = new TrainableEncoder(model, TrainableEncoder.Heads.maskedLmOnly(), 1, 24, 0f);
        pretrained.initialize(7);
        Path init = dir.resolve("mlm");
        pretrained.save(init, Map.of());
        tokenizer.save(init);
        Path out = dir.resolve("from-mlm");
        try (Trainer trainer = Trainer.startFrom(config("simcse", sentences, 0.05, "mean", List.of()), init, out)) {
            Map<String, float[]> started = trainer.encoder().huggingFaceTensors(false);
            Map<String, float[]> saved = pretrained.huggingFaceTensors(false);
            assertEquals(new TreeSet<>(started.keySet()), new TreeSet<>(saved.keySet().stream().filter(n -> n.startsWith("roberta.")).toList()));
            for (String name : started.keySet()) assertArrayEquals(saved.get(name), started.get(name), name);
            trainer.run(new Trainer.Listener() {}, () -> true);
        }
        try (Safetensors file = Safetensors.open(out.resolve("model.safetensors"))) {
            assertFalse(file.names().stream().anyMatch(n -> n.startsWith("lm_head.")), file.names().toString());
        }
        assertEquals(tokenizer.vocabSize(), GPT2Tokenizer.fromDirectory(out).vocabSize());
    }

    @Test
    void aPairWithAMissingFieldIsRefusedWithItsLineAndNothingIsWritten() throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(pairs));
        lines.set(6, "{\"en\": \"Cannot open file\", \"package\": \"x\"}");
        Path broken = Files.write(dir.resolve("broken.jsonl"), lines);
        Path out = dir.resolve("broken-run");
        TrainConfig config = config("contrastive-pairs", broken, 0.05, "mean", List.of("en", "fr"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Trainer.start(config, model, tokenizer, out));
        assertEquals(broken + ":7: missing field 'fr'", e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> config("simcse", sentences, 0, "mean", List.of()));
        assertThrows(IllegalArgumentException.class, () -> config("simcse", sentences, -0.05, "mean", List.of()));
        assertThrows(IllegalArgumentException.class, () -> config("simcse", sentences, 0.05, "max", List.of()));
        assertThrows(IllegalArgumentException.class, () -> config("mlm", sentences, 0.05, "mean", List.of("en")));
        // pairs come from JSON Lines, with two fields
        assertThrows(IllegalArgumentException.class,
                () -> Trainer.start(config("contrastive-pairs", sentences, 0.05, "mean", List.of()), model, tokenizer, dir.resolve("x")));
        assertThrows(IllegalArgumentException.class,
                () -> Trainer.start(config("contrastive-pairs", pairs, 0.05, "mean", List.of("en")), model, tokenizer, dir.resolve("x")));
        // no tokenizer to read the text with
        assertThrows(IllegalArgumentException.class, () -> Trainer.start(pairsConfig(), model, dir.resolve("x")));
        assertFalse(Files.exists(dir.resolve("x")));
    }
}
