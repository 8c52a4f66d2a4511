package org.jgpt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * eval and overlap from the command line. Metrics are checked against the PyTorch reference's per-example values
 * (data/fixtures/eval/expected.json, made by scripts/reference/eval_reference.py), overlap against hand counts.
 */
class EvalCommandsTest {
    private static final Path MODEL = Path.of("..", "data", "fixtures", "gpt2", "full-vocab");
    private static final Path DATA = Path.of("..", "data", "fixtures", "eval");

    @TempDir
    Path tmp;

    @SuppressWarnings("unchecked")
    private static Map<String, Object> metrics(CliRun run) {
        assertEquals(0, run.exitCode(), run.err());
        return (Map<String, Object>) Json.parseObject(run.out().strip()).get("metrics");
    }

    @Test
    @SuppressWarnings("unchecked")
    void lambadaMetricsPoolTheReferencesPerExampleScores() throws IOException {
        List<Map<String, Object>> reference = (List<Map<String, Object>>) Json.parseObject(
                Files.readString(DATA.resolve("expected.json"))).get("lambada");
        double logprob = 0;
        int correct = 0;
        for (Map<String, Object> e : reference) {
            logprob += ((Number) e.get("logprob")).doubleValue();
            correct += (Boolean) e.get("correct") ? 1 : 0;
        }
        Map<String, Object> m = metrics(CliRun.of("eval", "--model", MODEL.toString(), "--task", "lambada", "--data",
                DATA.resolve("lambada.jsonl").toString(), "--json"));
        assertEquals(reference.size(), ((Number) m.get("examples")).intValue());
        assertEquals((double) correct / reference.size(), (Double) m.get("accuracy"), 1e-12);
        double ppl = Math.exp(-logprob / reference.size());
        assertEquals(ppl, (Double) m.get("perplexity"), 1e-4 * ppl);
    }

    @Test
    void perplexityOfAPlainTextFileIsOneCommand() {
        CliRun run = CliRun.of("eval", "--model", MODEL.toString(), "--task", "perplexity", "--data",
                DATA.resolve("perplexity.txt").toString(), "--context", "32");
        assertEquals(0, run.exitCode(), run.err());
        for (String metric : List.of("token_perplexity", "word_perplexity", "bits_per_byte", "bits_per_char")) {
            assertTrue(run.out().contains(metric), run.out());
        }
    }

    @Test
    void limitCutsTheExamples() {
        Map<String, Object> m = metrics(CliRun.of("eval", "--model", MODEL.toString(), "--task", "cbt", "--data",
                DATA.resolve("cbt.txt").toString(), "--limit", "1", "--json"));
        assertEquals(1, ((Number) m.get("examples")).intValue());
    }

    @Test
    void badInputFailsNamingTheFileAndLine() throws IOException {
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"text\": \"fine text here\"}\n{\"txt\": \"typo\"}\n");
        CliRun run = CliRun.of("eval", "--model", MODEL.toString(), "--task", "lambada", "--data", bad.toString());
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains(bad + ":2: no string field \"text\""), run.err());

        run = CliRun.of("eval", "--model", MODEL.toString(), "--task", "squad", "--data", bad.toString());
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("unknown task 'squad'"), run.err());

        run = CliRun.of("eval", "--model", MODEL.toString(), "--task", "winograd", "--data", tmp.resolve("none.jsonl").toString());
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("none.jsonl: no such file"), run.err());
    }

    @Test
    @SuppressWarnings("unchecked")
    void overlapBuildThenCheck() throws IOException {
        Path train = tmp.resolve("train.txt");
        Files.writeString(train, "The quick brown fox jumps over the lazy dog and runs far away.\n");
        Path filter = tmp.resolve("train.bloom");
        CliRun build = CliRun.of("overlap", "build", "--out", filter.toString(), train.toString());
        assertEquals(0, build.exitCode(), build.err());
        assertTrue(build.out().contains("6 8-grams") && build.out().contains("MB/s"), build.out());

        Path samples = tmp.resolve("samples.txt");
        Files.writeString(samples, "quick brown fox jumps over the lazy dog\n---\nnothing like the training text at all here\n");
        CliRun check = CliRun.of("overlap", "check", "--filter", filter.toString(), "--json", samples.toString());
        assertEquals(0, check.exitCode(), check.err());
        Map<String, Object> file = ((List<Map<String, Object>>) Json.parseObject(check.out().strip()).get("files")).getFirst();
        assertEquals(2L, file.get("documents"));
        assertEquals(2L, file.get("ngrams"));
        assertEquals(1L, file.get("found"));
        assertEquals(List.of(100.0, 0.0), file.get("document_percents"));

        CliRun missing = CliRun.of("overlap", "check", "--filter", tmp.resolve("nope.bloom").toString(), samples.toString());
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().contains("nope.bloom: no such file"), missing.err());
        assertFalse(Files.exists(tmp.resolve("nope.bloom")));
    }
}
