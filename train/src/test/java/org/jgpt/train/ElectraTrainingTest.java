package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.jgpt.io.Json;
import org.jgpt.io.Safetensors;
import org.jgpt.model.ElectraConfig;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replaced-token detection through the training loop: a stopped and resumed rtd run equals the uninterrupted one bit
 * for bit (masks, generator samples and dropout are functions of seed and step), both models' folders included; the
 * saved folders carry exactly the tensor names and config.json keys of the PyTorch reference's ELECTRA
 * (data/fixtures/electra/tiny, same depth, both models projecting their embeddings); rtd-random saves the
 * discriminator alone; the generator's samples follow its distribution and repeat from the same seed; a sampled token
 * equal to the original is labelled original; bad settings are refused.
 */
class ElectraTrainingTest {
    @TempDir
    static Path dir;
    private static Path data;
    private static ElectraConfig model;

    @BeforeAll
    static void prepareCorpus() throws IOException {
        GPT2Tokenizer tokenizer = EncoderFixtures.prepareMobyDick(dir);
        data = dir.resolve("data");
        // as the reference fixture: embeddings 12 wide, discriminator 16 (2 layers, 2 heads), generator half as wide
        model = ElectraConfig.of(tokenizer.vocabSize(), 24, 12, 16, 2, 2, 1);
    }

    private static TrainConfig config(String objective, double widthRatio, double discriminatorWeight) {
        return new TrainConfig(data.toString(), 2, 24, 2, 6, 3e-3, 3e-4, 2, 0.01, true, 0.9, 0.999, 1.0, 0.1, 3, 2, 0, 42,
                objective, 0.15, 0.05, "mean", List.of(), widthRatio, discriminatorWeight);
    }

    private static void assertSameTensors(Path a, Path b) {
        try (var x = Safetensors.open(a.resolve("model.safetensors")); var y = Safetensors.open(b.resolve("model.safetensors"))) {
            assertEquals(new TreeSet<>(x.names()), new TreeSet<>(y.names()));
            for (String name : x.names()) assertArrayEquals(x.tensor(name).toFloatArray(), y.tensor(name).toFloatArray(), name);
        }
    }

    @Test
    void resumedRtdRunEqualsUninterruptedRun() throws IOException {
        EncoderFixtures.Recorder whole = new EncoderFixtures.Recorder();
        try (Trainer trainer = Trainer.start(config("rtd", 0.5, 50), model, dir.resolve("whole"))) {
            trainer.run(whole, () -> false);
        }
        EncoderFixtures.Recorder split = new EncoderFixtures.Recorder();
        try (Trainer first = Trainer.start(config("rtd", 0.5, 50), model, dir.resolve("split"))) {
            first.run(split, () -> split.values.size() >= 3);
        }
        try (Trainer second = Trainer.resume(dir.resolve("split"))) {
            assertEquals(3, second.step());
            second.run(split, () -> false);
        }
        assertEquals(whole.values, split.values);
        assertTrue(whole.values.stream().allMatch(Double::isFinite), whole.values.toString());
        assertSameTensors(dir.resolve("whole"), dir.resolve("split"));
        assertSameTensors(dir.resolve("whole/generator"), dir.resolve("split/generator"));
        assertSameTensors(dir.resolve("whole/checkpoint-000006/generator"), dir.resolve("whole/generator"));
    }

    @Test
    void savedFoldersCarryTheReferencesElectraNamesAndConfigKeys() throws IOException {
        Path out = dir.resolve("names");
        try (Trainer trainer = Trainer.start(config("rtd", 0.5, 50), model, out)) {
            trainer.run(new Trainer.Listener() {}, () -> true);
        }
        Path reference = RepoFiles.find("data/fixtures/electra/tiny");
        for (String folder : List.of("", "generator")) {
            Map<String, Object> ours = Json.parseObject(Files.readString(out.resolve(folder).resolve("config.json")));
            Map<String, Object> theirs = Json.parseObject(Files.readString(reference.resolve(folder).resolve("config.json")));
            assertEquals(new TreeSet<>(theirs.keySet()), new TreeSet<>(ours.keySet()), folder + "/config.json keys");
            for (String key : List.of("architectures", "model_type", "embedding_size", "hidden_size", "num_attention_heads",
                    "intermediate_size", "hidden_act", "num_hidden_layers", "type_vocab_size", "pad_token_id")) {
                assertEquals(theirs.get(key), ours.get(key), folder + "/config.json " + key);
            }
            assertEquals(24L, ours.get("max_position_embeddings"), "positions count from 0: the sequence length");
            try (var x = Safetensors.open(out.resolve(folder).resolve("model.safetensors"));
                 var y = Safetensors.open(reference.resolve(folder).resolve("model.safetensors"))) {
                assertEquals(new TreeSet<>(y.names()), new TreeSet<>(x.names()), folder + " tensor names");
                for (String name : y.names()) {
                    if (!name.startsWith("electra.embeddings.word_embeddings") && !name.startsWith("generator_lm_head")
                            && !name.startsWith("electra.embeddings.position_embeddings")) {
                        assertArrayEquals(y.entry(name).shape(), x.entry(name).shape(), name);
                    }
                }
            }
            assertTrue(Files.isRegularFile(out.resolve(folder).resolve("vocab.json")), folder + " has the vocabulary");
            assertEquals(Map.of("tokenizer_class", "RobertaTokenizer"),
                    Json.parseObject(Files.readString(out.resolve(folder).resolve("tokenizer_config.json"))));
        }
        try (var discriminator = Safetensors.open(out.resolve("model.safetensors"));
             var generator = Safetensors.open(out.resolve("generator/model.safetensors"))) {
            for (String name : discriminator.names()) {
                if (name.startsWith("electra.embeddings.")) {
                    assertArrayEquals(discriminator.tensor(name).toFloatArray(), generator.tensor(name).toFloatArray(),
                            "both folders hold the shared " + name);
                }
            }
        }
    }

    @Test
    void rtdRandomTrainsAndSavesTheDiscriminatorAlone() throws IOException {
        EncoderFixtures.Recorder recorder = new EncoderFixtures.Recorder();
        Path out = dir.resolve("random");
        try (Trainer trainer = Trainer.start(config("rtd-random", 0.5, 50), model, out)) {
            trainer.run(recorder, () -> false);
            assertEquals(ElectraModels.discriminatorParameters(model), trainer.parameterCount());
        }
        assertTrue(recorder.values.stream().allMatch(Double::isFinite), recorder.values.toString());
        double auc = recorder.values.getLast();
        assertTrue(auc >= 0 && auc <= 1, "AUC " + auc);
        assertEquals(List.of("ElectraForPreTraining"), Json.parseObject(Files.readString(out.resolve("config.json"))).get("architectures"));
        assertFalse(Files.exists(out.resolve("generator")), "no generator");
    }

    /** Parameter counts, by hand, of the fixture-shaped models: the shared embeddings are counted once. */
    private static final class ElectraModels {
        static long embeddings(ElectraConfig c) {
            long e = c.embeddingSize();
            return (c.vocabSize() + c.maxPositionEmbeddings() + c.typeVocabSize()) * e + 2 * e;
        }

        static long body(ElectraConfig c) {
            long e = c.embeddingSize(), h = c.hiddenSize(), i = c.intermediateSize();
            long layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h;
            return (c.projectsEmbeddings() ? e * h + h : 0) + c.numLayers() * layer;
        }

        static long discriminatorParameters(ElectraConfig c) {
            long h = c.hiddenSize();
            return embeddings(c) + body(c) + h * h + h + h + 1;
        }
    }

    @Test
    void pairCountsTheSharedEmbeddingsOnce() {
        TrainableElectra pair = new TrainableElectra(model, model.generator(0.5), 50, 2, 8, 0f);
        ElectraConfig g = model.generator(0.5);
        long generatorHead = (long) g.hiddenSize() * g.embeddingSize() + 3L * g.embeddingSize() + g.vocabSize();
        long expected = ElectraModels.discriminatorParameters(model) + ElectraModels.body(g) + generatorHead;
        assertEquals(expected, pair.parameters().stream().mapToLong(p -> p.value().length).sum());
        assertEquals(pair.parameters().size(), pair.parameters().stream().map(Parameter::name).distinct().count(),
                "parameter names are unique, for the optimizer's checkpoint");
    }

    /** A fixture-shaped pair on one batch of 2 × 8: rows of ordinary tokens, three positions labelled. */
    private static final int[] LENGTHS = {8, 6};
    private static final int[] LABELLED = {2, 5, 11};

    private static int[] originalRows() {
        int[] original = new int[16];
        for (int r = 0; r < 16; r++) original[r] = r % 8 < LENGTHS[r / 8] ? 10 + r : 1;
        return original;
    }

    private static int[] labels(int[] original) {
        int[] labels = new int[16];
        Arrays.fill(labels, -100);
        for (int r : LABELLED) labels[r] = original[r];
        return labels;
    }

    private static int[] samples(TrainableElectra pair, int[] original, long seed) {
        int[] masked = original.clone();
        for (int r : LABELLED) masked[r] = 3;
        pair.generatorForward(masked, LENGTHS, labels(original), false, 0);
        int[] tokens = original.clone();
        pair.sample(tokens, new SplittableRandom(seed));
        return tokens;
    }

    @Test
    void samplesRepeatFromTheSameSeedAndFollowTheGeneratorsDistribution() {
        TrainableElectra pair = new TrainableElectra(model, model.generator(0.5), 50, 2, 8, 0f);
        pair.initialize(7);
        int[] original = originalRows();
        int[] first = samples(pair, original, 99);
        assertArrayEquals(first, samples(pair, original, 99), "the same seed draws the same tokens");
        int[] unlabelled = originalRows();
        for (int r : LABELLED) unlabelled[r] = first[r];
        assertArrayEquals(unlabelled, first, "only the labelled positions are drawn");
        int differing = 0;
        for (long seed = 0; seed < 20; seed++) if (!Arrays.equals(first, samples(pair, original, seed))) differing++;
        assertTrue(differing >= 19, "an untrained generator's draws vary with the seed: " + differing + " of 20");

        // a generator that all but certainly predicts token 42 draws it everywhere
        float[] bias = pair.parameters().stream().filter(p -> p.name().equals("generator_lm_head.bias")).findFirst().orElseThrow().value();
        bias[42] = 100f;
        for (long seed = 0; seed < 20; seed++) {
            int[] drawn = samples(pair, original, seed);
            for (int r : LABELLED) assertEquals(42, drawn[r], "seed " + seed + ", row " + r);
        }
    }

    @Test
    void aSampleEqualToTheOriginalIsLabelledOriginal() {
        TrainableElectra pair = new TrainableElectra(model, model.generator(0.5), 50, 2, 8, 0f);
        pair.initialize(7);
        int[] original = originalRows();
        int[] corrupted = original.clone();
        corrupted[5] = 42; // replaced; rows 2 and 11 drew their original tokens
        pair.discriminatorForward(corrupted, original, LENGTHS, false, 0);
        int[] replaced = pair.discriminator().replaced();
        for (int r = 0; r < 16; r++) assertEquals(r == 5 ? 1 : 0, replaced[r], "row " + r);
    }

    @Test
    void areaUnderCurveRanksReplacedAboveOriginal() {
        float[] scores = {0.1f, 0.4f, 0.35f, 0.8f};
        boolean[] replaced = {false, false, true, true};
        assertEquals(0.75, ReplacedTokenDetection.areaUnderCurve(scores, replaced, 4), 1e-12);
        assertEquals(0.5, ReplacedTokenDetection.areaUnderCurve(new float[] {1, 1}, new boolean[] {true, false}, 2), 0.0);
        assertTrue(Double.isNaN(ReplacedTokenDetection.areaUnderCurve(scores, new boolean[4], 4)), "no positive");
    }

    @Test
    void aWiderGeneratorAndANonPositiveWeightAreRefused() {
        var wider = assertThrows(IllegalArgumentException.class, () -> config("rtd", 1.5, 50));
        assertTrue(wider.getMessage().contains("wider than the discriminator"), wider.getMessage());
        var weight = assertThrows(IllegalArgumentException.class, () -> config("rtd", 0.25, 0));
        assertTrue(weight.getMessage().contains("λ must be positive"), weight.getMessage());
        assertThrows(IllegalArgumentException.class, () -> config("rtd", -0.5, 50));
        ElectraConfig narrow = model.generator(0.5);
        var pair = assertThrows(IllegalArgumentException.class, () -> new TrainableElectra(narrow, model, 50, 2, 8, 0f));
        assertTrue(pair.getMessage().contains("wider than the discriminator"), pair.getMessage());
    }
}
