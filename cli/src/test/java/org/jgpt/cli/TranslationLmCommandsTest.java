package org.jgpt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;
import org.jgpt.model.EncoderConfig;
import org.jgpt.tokenizer.BpeTrainer;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.train.TrainableEncoder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * train --objective tlm and eval --task tlm on a small masked-LM encoder and the first 200 Debian English-French
 * pairs: tlm continues the encoder and saves its languages; the evaluation reports each language's masked tokens with
 * the other visible and hidden, for a tlm model in its own layout and for a masked-LM encoder in RoBERTa's; a pair
 * with a missing field is refused, writing nothing.
 */
class TranslationLmCommandsTest {
    @TempDir
    static Path dir;
    private static Path pairs;
    private static Path maskedLm;

    @BeforeAll
    static void saveEncoder() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("..", "data", "corpora", "debian-l10n-en-fr", "pairs.jsonl")).subList(0, 200);
        pairs = Files.write(dir.resolve("pairs.jsonl"), lines);
        StringBuilder text = new StringBuilder();
        for (String line : lines) {
            Map<String, Object> pair = Json.parseObject(line);
            text.append(pair.get("en")).append('\n').append(pair.get("fr")).append('\n');
        }
        GPT2Tokenizer tokenizer = BpeTrainer.train(List.of(text.toString().getBytes(StandardCharsets.UTF_8)), 400,
                BpeTrainer.SpecialTokens.ROBERTA, null);
        TrainableEncoder mlm = new TrainableEncoder(EncoderConfig.roberta(tokenizer.vocabSize(), 48, 16, 1, 2),
                TrainableEncoder.Heads.maskedLmOnly(), 1, 1, 0f);
        mlm.initialize(4);
        maskedLm = dir.resolve("mlm");
        mlm.save(maskedLm, Map.of());
        tokenizer.save(maskedLm);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> metrics(CliRun run) {
        assertEquals(0, run.exitCode(), run.err());
        return (Map<String, Object>) ((Map<String, Object>) Json.parse(run.out().strip())).get("metrics");
    }

    @Test
    void trainsTlmFromAMaskedLmEncoderAndEvaluatesBoth() throws IOException {
        Path out = dir.resolve("tlm-run");
        CliRun run = CliRun.of("train", "--objective", "tlm", "--init", maskedLm.toString(), "--data", pairs.toString(),
                "--fields", "en,fr", "--out", out.toString(), "--batch", "4", "--seq", "48", "--steps", "2", "--warmup",
                "1", "--eval-batches", "1");
        assertEquals(0, run.exitCode(), run.err());
        Map<String, Object> config = Json.parseObject(Files.readString(out.resolve("config.json")));
        assertEquals(List.of("en", "fr"), config.get("jgpt_languages"));
        assertEquals(2L, config.get("type_vocab_size"));
        assertTrue(Files.readString(out.resolve("metrics.csv")).lines().count() > 2);

        CliRun eval = CliRun.of("eval", "--task", "tlm", "--model", out.toString(), "--data", pairs.toString(), "--json");
        Map<String, Object> tlm = metrics(eval);
        assertEquals(List.of("en_accuracy_fr_visible", "en_accuracy_fr_hidden", "fr_accuracy_en_visible",
                "fr_accuracy_en_hidden", "en_loss_fr_visible", "en_loss_fr_hidden", "fr_loss_en_visible",
                "fr_loss_en_hidden", "en_masked_tokens", "fr_masked_tokens", "pairs"), List.copyOf(tlm.keySet()));
        assertEquals(10L, tlm.get("pairs"), "200 records hold out 10");
        assertTrue(eval.out().contains("language embeddings"), eval.out());

        CliRun plain = CliRun.of("eval", "--task", "tlm", "--model", maskedLm.toString(), "--data", pairs.toString(),
                "--fields", "en,fr", "--limit", "4");
        assertEquals(0, plain.exitCode(), plain.err());
        assertTrue(plain.out().startsWith("tlm (0.15, RoBERTa's pair layout)"), plain.out());
        assertTrue(plain.out().contains("pairs                   4"), plain.out());
    }

    @Test
    void aPairWithAMissingFieldIsRefusedAndNothingIsWritten() throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(pairs));
        lines.set(6, "{\"en\": \"Cannot open file\", \"package\": \"x\"}");
        Path broken = Files.write(dir.resolve("broken.jsonl"), lines);
        Path out = dir.resolve("refused");
        CliRun missing = CliRun.of("train", "--objective", "tlm", "--init", maskedLm.toString(), "--data",
                broken.toString(), "--fields", "en,fr", "--out", out.toString());
        assertNotEquals(0, missing.exitCode());
        assertTrue(missing.err().contains("broken.jsonl:7: missing field 'fr'"), missing.err());
        CliRun noVocabulary = CliRun.of("train", "--objective", "tlm", "--data", pairs.toString(), "--fields", "en,fr",
                "--out", out.toString());
        assertNotEquals(0, noVocabulary.exitCode());
        assertTrue(noVocabulary.err().contains("--tokenizer"), noVocabulary.err());
        assertFalse(Files.exists(out));
    }
}
