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
import org.jgpt.train.Pooling;
import org.jgpt.train.SentenceEncoder;
import org.jgpt.train.TrainableEncoder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sentence-embedding commands on small encoders and the first 200 Debian English-French pairs: embed prints one
 * JSON array per input line, the model's own vectors; eval --task retrieval ranks the held-out pairs; train runs
 * simcse from a masked-LM folder; and each refuses what the issue says it must: a model with no pooling, a pair with
 * a missing field, a temperature that is not positive, writing nothing.
 */
class SentenceEmbeddingCommandsTest {
    @TempDir
    static Path dir;
    private static Path pairs;
    private static Path sentenceEncoder;
    private static Path maskedLm;

    @BeforeAll
    static void saveEncoders() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("..", "data", "corpora", "debian-l10n-en-fr", "pairs.jsonl")).subList(0, 200);
        pairs = Files.write(dir.resolve("pairs.jsonl"), lines);
        StringBuilder text = new StringBuilder();
        for (String line : lines) {
            Map<String, Object> pair = Json.parseObject(line);
            text.append(pair.get("en")).append('\n').append(pair.get("fr")).append('\n');
        }
        GPT2Tokenizer tokenizer = BpeTrainer.train(List.of(text.toString().getBytes(StandardCharsets.UTF_8)), 400,
                BpeTrainer.SpecialTokens.ROBERTA, null);
        EncoderConfig config = EncoderConfig.roberta(tokenizer.vocabSize(), 32, 16, 1, 2);
        TrainableEncoder encoder = new TrainableEncoder(config, TrainableEncoder.Heads.none(), 1, 1, 0f);
        encoder.initialize(3);
        sentenceEncoder = dir.resolve("sentence-encoder");
        encoder.save(sentenceEncoder, Map.of(Pooling.CONFIG_KEY, "mean"));
        tokenizer.save(sentenceEncoder);
        TrainableEncoder mlm = new TrainableEncoder(config, TrainableEncoder.Heads.maskedLmOnly(), 1, 1, 0f);
        mlm.initialize(4);
        maskedLm = dir.resolve("mlm");
        mlm.save(maskedLm, Map.of());
        tokenizer.save(maskedLm);
    }

    private static double norm(List<?> vector) {
        return Math.sqrt(vector.stream().mapToDouble(x -> ((Number) x).doubleValue() * ((Number) x).doubleValue()).sum());
    }

    @Test
    void embedPrintsEachLinesVector() throws IOException {
        List<String> inputs = List.of("Cannot open file %s", "", "Impossible d'ouvrir le fichier %s");
        Path file = Files.write(dir.resolve("inputs.txt"), inputs);
        CliRun run = CliRun.of("embed", "--model", sentenceEncoder.toString(), file.toString());
        assertEquals(0, run.exitCode(), run.err());
        String[] printed = run.out().strip().split("\n");
        assertEquals(3, printed.length);
        List<SentenceEncoder.Embedding> expected = SentenceEncoder.open(sentenceEncoder).embed(inputs);
        for (int i = 0; i < 3; i++) {
            List<?> vector = (List<?>) Json.parse(printed[i]);
            assertEquals(16, vector.size());
            for (int d = 0; d < 16; d++) assertEquals(expected.get(i).vector()[d], ((Number) vector.get(d)).floatValue(), "line " + i);
        }
        CliRun unit = CliRun.of("embed", "--model", sentenceEncoder.toString(), "--normalize", file.toString());
        assertEquals(0, unit.exitCode(), unit.err());
        for (String line : unit.out().strip().split("\n")) assertEquals(1.0, norm((List<?>) Json.parse(line)), 1e-5);
    }

    @Test
    void embedRefusesAModelWithNoPooling() throws IOException {
        Path file = Files.writeString(dir.resolve("one.txt"), "Cannot open file\n");
        CliRun run = CliRun.of("embed", "--model", maskedLm.toString(), file.toString());
        assertNotEquals(0, run.exitCode());
        assertTrue(run.err().contains("names no pooling"), run.err());
        assertEquals("", run.out());
    }

    @Test
    @SuppressWarnings("unchecked")
    void retrievalRanksTheHeldOutPairs() throws IOException {
        CliRun run = CliRun.of("eval", "--task", "retrieval", "--model", sentenceEncoder.toString(), "--data",
                pairs.toString(), "--fields", "en,fr", "--candidates", "8", "--json");
        assertEquals(0, run.exitCode(), run.err());
        Map<String, Object> result = (Map<String, Object>) Json.parse(run.out().strip());
        Map<String, Object> metrics = (Map<String, Object>) result.get("metrics");
        assertEquals(8L, metrics.get("candidates"));
        double top1 = (Double) metrics.get("top1_accuracy"), top10 = (Double) metrics.get("top10_accuracy");
        double mrr = (Double) metrics.get("mrr");
        assertTrue(top1 <= mrr && mrr <= 1 && top10 == 1.0, metrics.toString()); // 8 candidates: every rank is in the top 10
        List<Map<String, Object>> examples = (List<Map<String, Object>>) result.get("examples");
        assertEquals(8, examples.size());
        assertEquals(Json.parseObject(Files.readAllLines(pairs).get(19)).get("en"), examples.getFirst().get("query"),
                "the 20th record is the first held out");
        // each English message finds itself
        CliRun self = CliRun.of("eval", "--task", "retrieval", "--model", sentenceEncoder.toString(), "--data",
                pairs.toString(), "--fields", "en,en", "--json");
        Map<String, Object> selfMetrics = (Map<String, Object>) ((Map<String, Object>) Json.parse(self.out().strip())).get("metrics");
        assertEquals(1.0, selfMetrics.get("top1_accuracy"));
        assertEquals(10L, selfMetrics.get("candidates"), "200 records hold out 10");
    }

    @Test
    void retrievalOfAMaskedLmEncoderNeedsAPooling() {
        CliRun refused = CliRun.of("eval", "--task", "retrieval", "--model", maskedLm.toString(), "--data", pairs.toString(),
                "--fields", "en,fr");
        assertNotEquals(0, refused.exitCode());
        assertTrue(refused.err().contains("names no pooling"), refused.err());
        CliRun pooled = CliRun.of("eval", "--task", "retrieval", "--model", maskedLm.toString(), "--data", pairs.toString(),
                "--fields", "en,fr", "--pooling", "mean");
        assertEquals(0, pooled.exitCode(), pooled.err());
        assertTrue(pooled.out().startsWith("retrieval (mean pooling)"), pooled.out());
    }

    @Test
    void trainsSimcseFromAMaskedLmEncoder() throws IOException {
        Path out = dir.resolve("simcse-run");
        CliRun run = CliRun.of("train", "--objective", "simcse", "--init", maskedLm.toString(), "--data", pairs.toString(),
                "--fields", "en", "--out", out.toString(), "--batch", "4", "--seq", "32", "--steps", "2", "--warmup", "1",
                "--eval-batches", "1");
        assertEquals(0, run.exitCode(), run.err());
        assertEquals("mean", Json.parseObject(Files.readString(out.resolve("config.json"))).get(Pooling.CONFIG_KEY));
        assertTrue(Files.readString(out.resolve("metrics.csv")).lines().count() > 2);
        CliRun embed = CliRun.of("embed", "--model", out.toString(), pairs.toString());
        assertEquals(0, embed.exitCode(), embed.err());
        assertEquals(200, embed.out().strip().split("\n").length);
    }

    @Test
    void badInputIsRefusedAndNothingIsWritten() throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(pairs));
        lines.set(6, "{\"en\": \"Cannot open file\", \"package\": \"x\"}");
        Path broken = Files.write(dir.resolve("broken.jsonl"), lines);
        Path out = dir.resolve("refused");
        CliRun missing = CliRun.of("train", "--objective", "contrastive-pairs", "--init", maskedLm.toString(), "--data",
                broken.toString(), "--fields", "en,fr", "--out", out.toString());
        assertNotEquals(0, missing.exitCode());
        assertTrue(missing.err().contains("broken.jsonl:7: missing field 'fr'"), missing.err());
        CliRun cold = CliRun.of("train", "--objective", "simcse", "--init", maskedLm.toString(), "--data", pairs.toString(),
                "--fields", "en", "--temperature", "0", "--out", out.toString());
        assertNotEquals(0, cold.exitCode());
        assertTrue(cold.err().contains("temperature must be positive"), cold.err());
        CliRun noVocabulary = CliRun.of("train", "--objective", "simcse", "--data", pairs.toString(), "--fields", "en",
                "--out", out.toString());
        assertNotEquals(0, noVocabulary.exitCode());
        assertTrue(noVocabulary.err().contains("--tokenizer"), noVocabulary.err());
        assertFalse(Files.exists(out));
    }
}
