package org.jgpt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;
import org.jgpt.io.Safetensors;
import org.jgpt.model.EncoderConfig;
import org.jgpt.tokenizer.BpeTrainer;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.train.TrainableEncoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * finetune then classify on a few mails of data/finetune/spam-assassin with the tiny data/fixtures/gpt2/full-vocab
 * model, and with a tiny random RoBERTa encoder saved as 'jgpt train --objective mlm' leaves it (what is learnt is
 * checked in the train module's tests; here: the commands, their output and their errors).
 */
class FinetuneCommandsTest {
    private static final Path MODEL = Path.of("..", "data", "fixtures", "gpt2", "full-vocab");
    private static final Path TRAIN = Path.of("..", "data", "finetune", "spam-assassin", "train.jsonl");

    @TempDir
    Path tmp;

    @Test
    void finetuneThenClassify() throws IOException {
        List<String> lines = Files.readAllLines(TRAIN);
        Path train = Files.write(tmp.resolve("train.jsonl"), lines.subList(0, 8));
        Path valid = Files.write(tmp.resolve("valid.jsonl"), lines.subList(8, 12));
        Path out = tmp.resolve("model");
        CliRun tuned = CliRun.of("finetune", "--model", MODEL.toString(), "--train", train.toString(), "--valid", valid.toString(),
                "--out", out.toString(), "--batch", "4", "--epochs", "2", "--max-length", "32", "--lm-weight", "0");
        assertEquals(0, tuned.exitCode(), tuned.err());
        assertTrue(tuned.err().contains("epoch 2 step 4/4"), tuned.err());
        assertTrue(tuned.err().contains("epoch 2 validation: loss "), tuned.err());
        assertTrue(tuned.err().contains("warning: 12 examples were longer than 32 tokens and were truncated"), tuned.err());
        assertEquals(2, Files.readAllLines(out.resolve("validation.jsonl")).size());

        CliRun classified = CliRun.of("classify", "--model", out.toString(), valid.toString());
        assertEquals(0, classified.exitCode(), classified.err());
        List<String> predictions = classified.out().lines().toList();
        assertEquals(4, predictions.size());
        for (String p : predictions) assertTrue(p.matches("(ham|spam)\t0\\.\\d{4}|(ham|spam)\t1\\.0000"), p);
        assertTrue(classified.err().contains("metrics: loss "), classified.err());

        Path text = Files.writeString(tmp.resolve("mails.txt"), "Cheap pills\n\nHi Bob, lunch tomorrow?\n");
        CliRun plain = CliRun.of("classify", "--model", out.toString(), text.toString());
        assertEquals(0, plain.exitCode(), plain.err());
        assertEquals(2, plain.out().lines().count(), "one prediction a non-blank line");
        assertFalse(plain.err().contains("metrics"));
    }

    @Test
    void finetunesAGpt1Model() throws IOException {
        Path gpt1 = Path.of("..", "data", "fixtures", "gpt1", "tiny");
        Path train = Files.writeString(tmp.resolve("t.jsonl"), """
                {"text": "the fox runs", "label": "animal"}
                {"text": "language models are learners", "label": "nlp"}
                {"text": "the lazy dog sleeps", "label": "animal"}
                """);
        Path out = tmp.resolve("gpt1-tuned");
        CliRun tuned = CliRun.of("finetune", "--model", gpt1.toString(), "--train", train.toString(), "--valid", train.toString(),
                "--out", out.toString(), "--batch", "3", "--epochs", "1");
        assertEquals(0, tuned.exitCode(), tuned.err());
        String config = Files.readString(out.resolve("config.json"));
        assertTrue(config.contains("\"model_type\": \"openai-gpt\"") && config.contains("OpenAIGPTForSequenceClassification"), config);
        CliRun classified = CliRun.of("classify", "--model", out.toString(), train.toString());
        assertEquals(0, classified.exitCode(), classified.err());
        assertEquals(3, classified.out().lines().count());
        CliRun generated = CliRun.of("generate", "--model", out.toString(), "--greedy", "--max-tokens", "3", "the fox");
        assertEquals(0, generated.exitCode(), generated.err());
    }

    @Test
    void badInputExitsWithTheFileAndLine() throws IOException {
        Path train = Files.writeString(tmp.resolve("t.jsonl"), "{\"text\": \"a\", \"label\": \"ham\"}\n{\"text\": \"b\", \"label\": \"spam\"}\n");
        Path valid = Files.writeString(tmp.resolve("v.jsonl"), "{\"text\": \"c\", \"label\": \"ham\"}\n{\"text\": \"d\", \"label\": \"eggs\"}\n");
        Path out = tmp.resolve("never");
        CliRun unknown = CliRun.of("finetune", "--model", MODEL.toString(), "--train", train.toString(), "--valid", valid.toString(),
                "--out", out.toString());
        assertEquals(1, unknown.exitCode());
        assertTrue(unknown.err().contains(valid + ":2: unknown label 'eggs' (the labels are ham, spam)"), unknown.err());
        assertFalse(Files.exists(out), "nothing written");

        Path empty = Files.writeString(tmp.resolve("e.csv"), "");
        CliRun none = CliRun.of("finetune", "--model", MODEL.toString(), "--train", empty.toString(), "--valid", valid.toString(),
                "--out", out.toString());
        assertEquals(1, none.exitCode());
        assertTrue(none.err().contains(empty + ": no examples"), none.err());

        CliRun notTuned = CliRun.of("classify", "--model", MODEL.toString(), valid.toString());
        assertEquals(1, notTuned.exitCode());
        assertTrue(notTuned.err().contains("is not a fine-tuned model"), notTuned.err());
    }

    /** A random masked-LM encoder for sequences of up to 64 tokens, with a vocabulary learnt from the first mails. */
    private Path encoder() throws IOException {
        byte[] mails = String.join("\n", Files.readAllLines(TRAIN).subList(0, 20)).getBytes(StandardCharsets.UTF_8);
        GPT2Tokenizer tokenizer = BpeTrainer.train(List.of(mails), 300, BpeTrainer.SpecialTokens.ROBERTA, null);
        var model = new TrainableEncoder(EncoderConfig.roberta(tokenizer.vocabSize(), 64, 16, 1, 2),
                TrainableEncoder.Heads.maskedLmOnly(), 1, 8, 0f);
        model.initialize(3);
        Path dir = tmp.resolve("encoder");
        model.save(dir, Map.of());
        tokenizer.save(dir);
        return dir;
    }

    @Test
    void finetunesAnEncoderThenClassifies() throws IOException {
        List<String> lines = Files.readAllLines(TRAIN);
        Path train = Files.write(tmp.resolve("train.jsonl"), lines.subList(0, 8));
        Path valid = Files.write(tmp.resolve("valid.jsonl"), lines.subList(8, 12));
        Path out = tmp.resolve("model");
        CliRun tuned = CliRun.of("finetune", "--model", encoder().toString(), "--train", train.toString(), "--valid",
                valid.toString(), "--out", out.toString(), "--batch", "4", "--epochs", "2");
        assertEquals(0, tuned.exitCode(), tuned.err());
        assertTrue(tuned.err().contains("fine-tuning the encoder "), tuned.err());
        assertTrue(tuned.err().contains("epoch 2 step 4/4"), tuned.err());
        assertTrue(tuned.err().contains("epoch 2 validation: loss "), tuned.err());
        assertTrue(tuned.err().contains("warning: 12 examples were longer than 64 tokens and were truncated"), tuned.err());
        assertEquals(2, Files.readAllLines(out.resolve("validation.jsonl")).size());
        Map<String, Object> config = Json.parseObject(Files.readString(out.resolve("config.json")));
        assertEquals(List.of("RobertaForSequenceClassification"), config.get("architectures"));
        assertEquals(Map.of("0", "ham", "1", "spam"), config.get("id2label"));
        try (Safetensors weights = Safetensors.open(out.resolve("model.safetensors"))) {
            assertTrue(weights.names().contains("classifier.out_proj.weight"), weights.names().toString());
            assertTrue(weights.names().stream().allMatch(n -> n.startsWith("roberta.") || n.startsWith("classifier.")),
                    weights.names().toString());
        }

        CliRun classified = CliRun.of("classify", "--model", out.toString(), valid.toString());
        assertEquals(0, classified.exitCode(), classified.err());
        List<String> predictions = classified.out().lines().toList();
        assertEquals(4, predictions.size());
        for (String p : predictions) assertTrue(p.matches("(ham|spam)\t0\\.\\d{4}|(ham|spam)\t1\\.0000"), p);
        assertTrue(classified.err().contains("metrics: loss "), classified.err());

        Path text = Files.writeString(tmp.resolve("mails.txt"), "Cheap pills\n\nHi Bob, lunch tomorrow?\n");
        CliRun plain = CliRun.of("classify", "--model", out.toString(), text.toString());
        assertEquals(0, plain.exitCode(), plain.err());
        assertEquals(2, plain.out().lines().count(), "one prediction a non-blank line");
    }

    @Test
    void anEncoderTakesTextPairs() throws IOException {
        Path pairs = Files.writeString(tmp.resolve("pairs.jsonl"), """
                {"premise": "Click below to win", "hypothesis": "It is spam", "label": "yes"}
                {"premise": "Lunch at noon?", "hypothesis": "It is spam", "label": "no"}
                {"premise": "Cheap pills", "hypothesis": "It is an offer", "label": "yes"}
                """);
        Path out = tmp.resolve("pairs-model");
        CliRun tuned = CliRun.of("finetune", "--model", encoder().toString(), "--task", "entailment", "--train", pairs.toString(),
                "--valid", pairs.toString(), "--out", out.toString(), "--batch", "3", "--epochs", "1");
        assertEquals(0, tuned.exitCode(), tuned.err());
        CliRun classified = CliRun.of("classify", "--model", out.toString(), pairs.toString());
        assertEquals(0, classified.exitCode(), classified.err());
        assertEquals(3, classified.out().lines().count());
    }

    @Test
    void anEncoderRefusesAnLmLossMultipleChoiceAndBadLabels() throws IOException {
        Path encoder = encoder();
        Path train = Files.write(tmp.resolve("train.jsonl"), Files.readAllLines(TRAIN).subList(0, 4));
        Path out = tmp.resolve("never");
        CliRun lm = CliRun.of("finetune", "--model", encoder.toString(), "--train", train.toString(), "--valid", train.toString(),
                "--out", out.toString(), "--lm-weight", "0.5");
        assertEquals(1, lm.exitCode());
        assertTrue(lm.err().contains("--lm-weight 0.5: " + encoder + " is an encoder"), lm.err());
        assertFalse(Files.exists(out), "nothing written");

        Path choice = Files.writeString(tmp.resolve("c.jsonl"),
                "{\"context\": \"Snow is\", \"choices\": [\"hot\", \"cold\"], \"label\": 1}\n");
        CliRun multipleChoice = CliRun.of("finetune", "--model", encoder.toString(), "--task", "choice", "--train", choice.toString(),
                "--valid", choice.toString(), "--out", out.toString());
        assertEquals(1, multipleChoice.exitCode());
        assertTrue(multipleChoice.err().contains("multiple choice is not supported for encoders"), multipleChoice.err());
        assertFalse(multipleChoice.err().contains("fine-tuning"), "refused before it starts: " + multipleChoice.err());
        assertFalse(Files.exists(out), "nothing written");

        Path eggs = Files.writeString(tmp.resolve("v.jsonl"), "{\"text\": \"d\", \"label\": \"eggs\"}\n");
        CliRun unknown = CliRun.of("finetune", "--model", encoder.toString(), "--train", train.toString(), "--valid", eggs.toString(),
                "--out", out.toString());
        assertEquals(1, unknown.exitCode());
        assertTrue(unknown.err().contains(eggs + ":1: unknown label 'eggs' (the labels are ham, spam)"), unknown.err());
        assertFalse(Files.exists(out), "nothing written");

        CliRun notTuned = CliRun.of("classify", "--model", encoder.toString(), train.toString());
        assertEquals(1, notTuned.exitCode());
        assertTrue(notTuned.err().contains("is not a fine-tuned model"), notTuned.err());
    }
}
