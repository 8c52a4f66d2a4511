package org.jgpt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;
import org.jgpt.io.Safetensors;
import org.jgpt.tokenizer.BpeTrainer;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.train.CorpusPreparer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * train --objective rtd on a prepared corpus writes the discriminator's folder at --out and the generator's in
 * --out/generator, ELECTRA's embedding size and generator width as asked, and validates with the discriminator's AUC; a generator wider than the discriminator,
 * a discriminator weight that is not positive, or --embedding-size with another objective are refused with a message
 * and nothing written; bench train --objective rtd runs ELECTRA-small's shapes. An rtd run folder is fine-tuned by
 * finetune into an ElectraForSequenceClassification folder (electra.* and classifier.* alone) that classify opens;
 * finetune refuses an LM loss and multiple choice for it, and generate, score, fill-mask and classify (before
 * fine-tuning) refuse it with a message that says what it is.
 */
class ElectraCommandsTest {
    @TempDir
    static Path dir;
    private static Path data;

    @BeforeAll
    static void prepareCorpus() throws IOException {
        String moby = Files.readString(Path.of("..", "data", "corpora", "moby-dick.txt")).substring(0, 60_000);
        GPT2Tokenizer tokenizer = BpeTrainer.train(List.of(moby.getBytes(StandardCharsets.UTF_8)), 320,
                BpeTrainer.SpecialTokens.ROBERTA, null);
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        for (int i = 0; i < 3; i++) Files.writeString(corpus.resolve("part" + i + ".txt"), moby.substring(20_000 * i, 20_000 * i + 4_000));
        data = dir.resolve("data");
        CorpusPreparer.prepare(List.of(corpus), data, tokenizer, 0.34, 1_000_000, null);
    }

    private static CliRun train(Path out, String... settings) {
        List<String> args = new java.util.ArrayList<>(List.of("train", "--data", data.toString(), "--out", out.toString(),
                "--n-layer", "1", "--n-embd", "16", "--n-head", "2", "--seq", "16", "--batch", "2", "--steps", "2",
                "--eval-interval", "0", "--eval-batches", "1"));
        args.addAll(List.of(settings));
        return CliRun.of(args.toArray(String[]::new));
    }

    @Test
    void rtdWritesTheDiscriminatorAndItsGenerator() throws IOException {
        Path out = dir.resolve("rtd");
        CliRun run = train(out, "--objective", "rtd", "--embedding-size", "8", "--generator-width-ratio", "0.5");
        assertEquals(0, run.exitCode(), run.err());
        List<String> metrics = Files.readAllLines(out.resolve("metrics.csv"));
        String[] validation = metrics.getLast().split(",", -1);
        double auc = Double.parseDouble(validation[6]);
        assertTrue(auc >= 0 && auc <= 1, "the validation's replaced-token AUC: " + metrics.getLast());
        Map<String, Object> discriminator = Json.parseObject(Files.readString(out.resolve("config.json")));
        Map<String, Object> generator = Json.parseObject(Files.readString(out.resolve("generator/config.json")));
        assertEquals(List.of("ElectraForPreTraining"), discriminator.get("architectures"));
        assertEquals(List.of("ElectraForMaskedLM"), generator.get("architectures"));
        assertEquals(8L, discriminator.get("embedding_size"));
        assertEquals(16L, discriminator.get("hidden_size"));
        assertEquals(8L, generator.get("hidden_size"));
        assertEquals(1L, generator.get("num_attention_heads"));
        assertEquals(16L, discriminator.get("max_position_embeddings"));
    }

    @Test
    void badSettingsAreRefusedAndNothingIsWritten() {
        Path wider = dir.resolve("wider");
        CliRun run = train(wider, "--objective", "rtd", "--generator-width-ratio", "2");
        assertNotEquals(0, run.exitCode());
        assertTrue(run.err().contains("wider than the discriminator"), run.err());
        assertFalse(Files.exists(wider));

        Path unweighted = dir.resolve("unweighted");
        run = train(unweighted, "--objective", "rtd", "--discriminator-weight", "0");
        assertNotEquals(0, run.exitCode());
        assertTrue(run.err().contains("λ must be positive"), run.err());
        assertFalse(Files.exists(unweighted));

        Path roberta = dir.resolve("roberta");
        run = train(roberta, "--objective", "mlm", "--embedding-size", "8");
        assertNotEquals(0, run.exitCode());
        assertTrue(run.err().contains("--embedding-size is ELECTRA's"), run.err());
        assertFalse(Files.exists(roberta));
    }

    /** The first mails of the spam corpus, {@code from} to {@code to}, as a classification file. */
    private static Path mails(String name, int from, int to) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("..", "data", "finetune", "spam-assassin", "train.jsonl"));
        return Files.write(dir.resolve(name), lines.subList(from, to));
    }

    @Test
    void finetuneThenClassifyAnRtdRun() throws IOException {
        Path run = dir.resolve("rtd-to-tune");
        assertEquals(0, train(run, "--objective", "rtd", "--embedding-size", "8").exitCode());
        Path trainSet = mails("tune-train.jsonl", 0, 8), validSet = mails("tune-valid.jsonl", 8, 12);
        Path tuned = dir.resolve("rtd-tuned");
        CliRun finetune = CliRun.of("finetune", "--model", run.toString(), "--train", trainSet.toString(), "--valid",
                validSet.toString(), "--out", tuned.toString(), "--batch", "4", "--epochs", "2");
        assertEquals(0, finetune.exitCode(), finetune.err());
        assertTrue(finetune.err().contains("fine-tuning the encoder "), finetune.err());
        assertTrue(finetune.err().contains("epoch 2 validation: loss "), finetune.err());
        Map<String, Object> config = Json.parseObject(Files.readString(tuned.resolve("config.json")));
        assertEquals(List.of("ElectraForSequenceClassification"), config.get("architectures"));
        assertEquals("electra", config.get("model_type"));
        assertEquals(Map.of("0", "ham", "1", "spam"), config.get("id2label"));
        assertEquals(Map.of("task", "classification", "max_length", 16L), config.get("jgpt_task"));
        try (Safetensors weights = Safetensors.open(tuned.resolve("model.safetensors"))) {
            assertTrue(weights.names().contains("classifier.out_proj.weight"), weights.names().toString());
            assertTrue(weights.names().contains("electra.embeddings_project.weight"), weights.names().toString());
            assertTrue(weights.names().stream().allMatch(n -> n.startsWith("electra.") || n.startsWith("classifier.")),
                    "no discriminator_predictions or generator tensors: " + weights.names());
        }
        assertFalse(Files.exists(tuned.resolve("generator")));
        assertTrue(Files.isRegularFile(tuned.resolve("vocab.json")) && Files.isRegularFile(tuned.resolve("tokenizer_config.json")));

        CliRun classified = CliRun.of("classify", "--model", tuned.toString(), validSet.toString());
        assertEquals(0, classified.exitCode(), classified.err());
        List<String> predictions = classified.out().lines().toList();
        assertEquals(4, predictions.size());
        for (String p : predictions) assertTrue(p.matches("(ham|spam)\t0\\.\\d{4}|(ham|spam)\t1\\.0000"), p);
        assertTrue(classified.err().contains("metrics: loss "), classified.err());
    }

    @Test
    void anRtdRunIsRefusedWhereItDoesNotFit() throws IOException {
        Path run = dir.resolve("rtd-refused");
        assertEquals(0, train(run, "--objective", "rtd-random").exitCode());
        Path trainSet = mails("refused-train.jsonl", 0, 4);
        Path out = dir.resolve("never");
        CliRun lm = CliRun.of("finetune", "--model", run.toString(), "--train", trainSet.toString(), "--valid",
                trainSet.toString(), "--out", out.toString(), "--lm-weight", "0.5");
        assertEquals(1, lm.exitCode());
        assertTrue(lm.err().contains("--lm-weight 0.5: " + run + " is an encoder"), lm.err());
        Path choice = Files.writeString(dir.resolve("choice.jsonl"),
                "{\"context\": \"Snow is\", \"choices\": [\"hot\", \"cold\"], \"label\": 1}\n");
        CliRun multipleChoice = CliRun.of("finetune", "--model", run.toString(), "--task", "choice", "--train",
                choice.toString(), "--valid", choice.toString(), "--out", out.toString());
        assertEquals(1, multipleChoice.exitCode());
        assertTrue(multipleChoice.err().contains("multiple choice is not supported for encoders"), multipleChoice.err());
        assertFalse(Files.exists(out), "nothing written");

        CliRun generate = CliRun.of("generate", "--model", run.toString(), "Call me");
        CliRun score = CliRun.of("score", "--model", run.toString(), trainSet.toString());
        for (CliRun refused : List.of(generate, score)) {
            assertEquals(1, refused.exitCode());
            assertTrue(refused.err().contains(run + " is an ELECTRA model, which does not generate or score text"), refused.err());
        }
        CliRun fillMask = CliRun.of("fill-mask", "--model", run.toString(), "Call me <mask>");
        assertEquals(1, fillMask.exitCode());
        assertTrue(fillMask.err().contains(run + " is an ELECTRA model, which jgpt only fine-tunes"), fillMask.err());
        CliRun notTuned = CliRun.of("classify", "--model", run.toString(), trainSet.toString());
        assertEquals(1, notTuned.exitCode());
        assertTrue(notTuned.err().contains("is not a fine-tuned model"), notTuned.err());
    }

    @Test
    void benchTrainRunsElectraSmall() {
        CliRun run = CliRun.of("bench", "train", "--objective", "rtd", "--batch", "1", "--seq", "8", "--steps", "1");
        assertEquals(0, run.exitCode(), run.err());
        Map<String, Object> json = Json.parseObject(run.out().strip());
        assertEquals("rtd", json.get("objective"));
        assertEquals("electra-small (random)", json.get("model"));
        assertTrue(((Number) json.get("tokens_per_second")).doubleValue() > 0, run.out());
        assertTrue(((Number) json.get("mfu")).doubleValue() > 0, run.out());
    }
}
