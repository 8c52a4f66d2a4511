package org.jgpt.train.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.jgpt.io.Json;
import org.jgpt.io.Safetensors;
import org.jgpt.model.ElectraConfig;
import org.jgpt.model.EncoderConfig;
import org.jgpt.tokenizer.BpeTrainer;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.RobertaTokens;
import org.jgpt.train.ElectraFolders;
import org.jgpt.train.RepoFiles;
import org.jgpt.train.TrainableEncoder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fine-tuning a tiny random RoBERTa encoder (2 layers, 16 wide, a small BPE vocabulary with RoBERTa's special tokens),
 * saved with masked-LM and sentence-order heads as 'jgpt train --objective mlm+sop' leaves it. On texts made of animal
 * names or of colour names, the training loss falls and unseen validation texts are all classified right; the saved
 * folder is a RobertaForSequenceClassification folder (the same tensor names as the PyTorch-made fixture
 * data/fixtures/encoder/tiny-classifier, so no lm_head.* or sop_classifier.*; the label maps and the task in
 * config.json) and, reopened with other batch and sequence sizes, gives the same probabilities. The same for a tiny
 * random ELECTRA discriminator (ElectraForPreTraining, embeddings 8 wide projected to 16, as an rtd run leaves it):
 * it learns the task and is saved as ElectraForSequenceClassification, with exactly the tensor names and config.json
 * keys of the PyTorch-made data/fixtures/electra/tiny-classifier (no discriminator_predictions.*), and RoBERTa's
 * vocabulary named in tokenizer_config.json. Also: RoBERTa's framing and truncation, and what an encoder refuses.
 */
class EncoderFineTuneTest {
    private static final List<String> ANIMALS = List.of("cat", "dog", "horse", "cow", "sheep", "goat", "mouse", "bird");
    private static final List<String> COLOURS = List.of("red", "blue", "green", "yellow", "purple", "orange", "black", "white");
    private static final FineTuner.Settings SETTINGS = new FineTuner.Settings(1e-2, 6, 4, 10, 0.1, 0f, 0.1f, 0.1f, 0f, 1f, 32, 7);

    @TempDir
    static Path dir;
    private static GPT2Tokenizer tokenizer;
    private static Path pretrained;
    private static Path electra;

    @BeforeAll
    static void writePretrainedEncoder() throws IOException {
        String corpus = String.join(" ", Collections.nCopies(20, String.join(" ", ANIMALS) + " " + String.join(" ", COLOURS)));
        tokenizer = BpeTrainer.train(List.of(corpus.getBytes(StandardCharsets.UTF_8)), 320, BpeTrainer.SpecialTokens.ROBERTA, null);
        var config = EncoderConfig.roberta(tokenizer.vocabSize(), 32, 16, 2, 2);
        var encoder = new TrainableEncoder(config, TrainableEncoder.Heads.maskedLmAndSentencePairs(), 1, 8, 0f);
        encoder.initialize(5);
        pretrained = dir.resolve("pretrained");
        encoder.save(pretrained, Map.of());
        tokenizer.save(pretrained);
        electra = ElectraFolders.writeDiscriminator(dir.resolve("electra"),
                ElectraConfig.of(tokenizer.vocabSize(), 32, 8, 16, 2, 2, RobertaTokens.of(tokenizer).pad()), tokenizer, 5);
    }

    /** {@code count} texts of 2 to 5 words, alternately all animals ("animal") and all colours ("colour"). */
    private static List<Example> texts(int count, long seed) {
        Random random = new Random(seed);
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            List<String> words = i % 2 == 0 ? ANIMALS : COLOURS;
            List<String> text = new ArrayList<>();
            for (int w = 2 + random.nextInt(4); w > 0; w--) text.add(words.get(random.nextInt(words.size())));
            examples.add(new Example(List.of(String.join(" ", text)), i % 2 == 0 ? "animal" : "colour", "toy:" + i));
        }
        return examples;
    }

    private record Run(FineTuner.EncoderResult result, List<Double> losses, List<Metrics.Report> epochs) {}

    private static Run fineTune(List<Example> train, List<Example> valid, FineTuner.Settings settings) {
        return fineTune(pretrained, train, valid, settings);
    }

    private static Run fineTune(Path encoder, List<Example> train, List<Example> valid, FineTuner.Settings settings) {
        List<Double> losses = new ArrayList<>();
        List<Metrics.Report> epochs = new ArrayList<>();
        var result = FineTuner.trainEncoder(encoder, tokenizer, Task.CLASSIFICATION, train, valid, settings,
                new FineTuner.Listener() {
                    @Override
                    public void onStep(int step, int steps, int epoch, double loss, double taskLoss, double lmLoss, double lr) {
                        losses.add(loss);
                        assertEquals(0, lmLoss);
                    }

                    @Override
                    public void onEpoch(int epoch, Metrics.Report validation) {
                        epochs.add(validation);
                    }
                });
        return new Run(result, losses, epochs);
    }

    @Test
    @SuppressWarnings("unchecked")
    void learnsAnimalsFromColoursAndSavesARobertaClassifier() throws IOException {
        List<Example> valid = texts(12, 2);
        Run run = fineTune(texts(36, 1), valid, SETTINGS);
        assertEquals(10 * 6, run.losses().size(), "36 examples in batches of 6, 10 epochs");
        double first = run.losses().getFirst(), last = run.losses().getLast();
        assertTrue(last < first / 4, "training loss from " + first + " to " + last);
        assertEquals(1.0, run.epochs().getLast().accuracy(), "unseen texts: " + run.epochs());
        assertTrue(run.epochs().getLast().loss() < 0.1, "validation loss: " + run.epochs());

        Path tuned = dir.resolve("tuned");
        run.result().model().save(tuned, tokenizer);
        Map<String, Object> config = Json.parseObject(Files.readString(tuned.resolve("config.json")));
        assertEquals(List.of("RobertaForSequenceClassification"), config.get("architectures"));
        assertEquals("roberta", config.get("model_type"));
        assertEquals(Map.of("0", "animal", "1", "colour"), config.get("id2label"));
        assertEquals(Map.of("animal", 0L, "colour", 1L), config.get("label2id"));
        assertEquals(Map.of("task", "classification", "max_length", 32L), config.get("jgpt_task"));
        assertTrue(Files.isRegularFile(tuned.resolve("vocab.json")) && Files.isRegularFile(tuned.resolve("merges.txt")));
        try (Safetensors saved = Safetensors.open(tuned.resolve("model.safetensors"));
             Safetensors torch = Safetensors.open(RepoFiles.find("data/fixtures/encoder/tiny-classifier/model.safetensors"))) {
            assertEquals(new TreeSet<>(torch.names()), new TreeSet<>(saved.names()));
            assertArrayEquals(new long[] {2, 16}, saved.tensor("classifier.out_proj.weight").shape());
        }

        GPT2Tokenizer reread = GPT2Tokenizer.fromDirectory(tuned);
        EncoderTaskModel.Spec spec = EncoderTaskModel.readSpec(tuned, reread);
        assertEquals(run.result().model().spec(), spec);
        List<TaskModel.Encoded> encoded = FineTuner.encode(spec, valid, reread);
        float[][] before = FineTuner.predict(run.result().model(), encoded);
        float[][] after = FineTuner.predict(EncoderTaskModel.load(tuned, spec, 1, TaskModel.longest(encoded)), encoded);
        for (int i = 0; i < before.length; i++) assertArrayEquals(before[i], after[i], 1e-6f, "text " + i);
    }

    @Test
    void learnsAnimalsFromColoursAndSavesAnElectraClassifier() throws IOException {
        List<Example> valid = texts(12, 2);
        Run run = fineTune(electra, texts(36, 1), valid, SETTINGS);
        double first = run.losses().getFirst(), last = run.losses().getLast();
        assertTrue(last < first / 4, "training loss from " + first + " to " + last);
        assertEquals(1.0, run.epochs().getLast().accuracy(), "unseen texts: " + run.epochs());
        assertTrue(run.epochs().getLast().loss() < 0.1, "validation loss: " + run.epochs());

        Path tuned = dir.resolve("electra-tuned");
        run.result().model().save(tuned, tokenizer);
        Path torchFolder = RepoFiles.find("data/fixtures/electra/tiny-classifier");
        Map<String, Object> config = Json.parseObject(Files.readString(tuned.resolve("config.json")));
        Map<String, Object> torchConfig = Json.parseObject(Files.readString(torchFolder.resolve("config.json")));
        Set<String> jgptKeys = new TreeSet<>(config.keySet());
        jgptKeys.remove(SavedTask.KEY);
        assertEquals(new TreeSet<>(torchConfig.keySet()), jgptKeys, "config.json's keys, jgpt_task aside");
        assertEquals(List.of("ElectraForSequenceClassification"), config.get("architectures"));
        assertEquals("electra", config.get("model_type"));
        assertEquals(Map.of("0", "animal", "1", "colour"), config.get("id2label"));
        assertEquals(Map.of("animal", 0L, "colour", 1L), config.get("label2id"));
        assertEquals(Map.of("task", "classification", "max_length", 32L), config.get("jgpt_task"));
        assertEquals(Map.of("tokenizer_class", "RobertaTokenizer"),
                Json.parseObject(Files.readString(tuned.resolve("tokenizer_config.json"))));
        try (Safetensors saved = Safetensors.open(tuned.resolve("model.safetensors"));
             Safetensors torch = Safetensors.open(torchFolder.resolve("model.safetensors"))) {
            assertEquals(new TreeSet<>(torch.names()), new TreeSet<>(saved.names()));
            assertArrayEquals(new long[] {2, 16}, saved.tensor("classifier.out_proj.weight").shape());
        }

        GPT2Tokenizer reread = GPT2Tokenizer.fromDirectory(tuned);
        EncoderTaskModel.Spec spec = EncoderTaskModel.readSpec(tuned, reread);
        assertEquals(run.result().model().spec(), spec);
        List<TaskModel.Encoded> encoded = FineTuner.encode(spec, valid, reread);
        float[][] before = FineTuner.predict(run.result().model(), encoded);
        float[][] after = FineTuner.predict(EncoderTaskModel.load(tuned, spec, 1, TaskModel.longest(encoded)), encoded);
        for (int i = 0; i < before.length; i++) assertArrayEquals(before[i], after[i], 1e-6f, "text " + i);
    }

    @Test
    void framesOneTextOrAPairAsRobertaAndTruncatesTheLongestText() {
        var input = new RobertaInput(new RobertaTokens(0, 1, 2, 3, 99), 8);
        var single = input.apply(List.of(new int[] {10, 11, 12}));
        assertArrayEquals(new int[] {0, 10, 11, 12, 2}, single.sequences()[0]);
        assertFalse(single.truncated());
        var cut = input.apply(List.of(new int[] {10, 11, 12, 13, 14, 15, 16, 17}));
        assertArrayEquals(new int[] {0, 10, 11, 12, 13, 14, 15, 2}, cut.sequences()[0], "the closing </s> stays");
        assertTrue(cut.truncated());
        var pair = input.apply(List.of(new int[] {10, 11, 12, 13}, new int[] {20, 21, 22}));
        assertArrayEquals(new int[] {0, 10, 11, 2, 2, 20, 21, 2}, pair.sequences()[0], "cut from the longest text first");
        assertTrue(pair.truncated());

        var spec = new EncoderTaskModel.Spec(Task.ENTAILMENT, List.of("no", "yes"),
                new RobertaInput(RobertaTokens.of(tokenizer), 32));
        int[] framed = spec.encode(new Example(List.of("cat dog", "red"), "yes", "pair:1"), tokenizer).sequences()[0];
        int bos = RobertaTokens.of(tokenizer).bos(), eos = RobertaTokens.of(tokenizer).eos();
        int[] cat = tokenizer.encode("cat dog"), red = tokenizer.encode("red");
        assertEquals(cat.length + red.length + 4, framed.length);
        assertEquals(bos, framed[0]);
        assertEquals(eos, framed[cat.length + 1]);
        assertEquals(eos, framed[cat.length + 2]);
        assertEquals(eos, framed[framed.length - 1]);
    }

    @Test
    void refusesAnLmLossMultipleChoiceAndGpts() {
        List<Example> train = texts(4, 3);
        var withLm = new FineTuner.Settings(1e-3, 2, 2, 1, 0, 0.5f, 0.1f, 0.1f, 0f, 1f, 32, 7);
        var lm = assertThrows(IllegalArgumentException.class, () -> fineTune(train, train, withLm));
        assertTrue(lm.getMessage().contains("no LM loss"), lm.getMessage());

        List<Example> choice = List.of(new Example(List.of("the sky is", "blue", "green"), "0", "choice:1"));
        var multipleChoice = assertThrows(IllegalArgumentException.class, () -> FineTuner.trainEncoder(pretrained, tokenizer,
                Task.CHOICE, choice, choice, SETTINGS, null));
        assertTrue(multipleChoice.getMessage().contains("multiple choice is not supported for encoders"),
                multipleChoice.getMessage());

        Path gpt2 = RepoFiles.find("data/fixtures/gpt2/full-vocab");
        var notEncoder = assertThrows(IllegalArgumentException.class, () -> FineTuner.trainEncoder(gpt2, tokenizer,
                Task.CLASSIFICATION, train, train, SETTINGS, null));
        assertTrue(notEncoder.getMessage().contains("is not an encoder"), notEncoder.getMessage());
    }
}
