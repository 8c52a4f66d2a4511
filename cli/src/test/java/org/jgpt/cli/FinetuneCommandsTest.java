package org.jgpt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * finetune then classify on a few mails of data/finetune/spam-assassin with the tiny data/fixtures/gpt2/full-vocab
 * model (what is learnt is checked in the train module's tests; here: the commands, their output and their errors).
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
}
