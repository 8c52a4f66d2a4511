package org.jgpt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * generate, score and bench on the full-vocabulary PyTorch fixture (data/fixtures/gpt2/full-vocab: a 2-layer GPT-2
 * with GPT-2's tokenizer, n_positions 64). Expected values come from its expected.json, never from jgpt.
 */
class ModelCommandsTest {
    private static final Path MODEL = Path.of("..", "data", "fixtures", "gpt2", "full-vocab");
    private static final GPT2Tokenizer TOKENIZER = GPT2Tokenizer.gpt2();

    @TempDir
    Path tmp;

    @SuppressWarnings("unchecked")
    private static Map<String, Object> expected() throws IOException {
        return Json.parseObject(Files.readString(MODEL.resolve("expected.json")));
    }

    /** log softmax(row)[target] in double, from PyTorch's logits. */
    private static double logSoftmax(List<?> row, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (Object v : row) max = Math.max(max, ((Number) v).doubleValue());
        double sum = 0;
        for (Object v : row) sum += Math.exp(((Number) v).doubleValue() - max);
        return ((Number) row.get(target)).doubleValue() - max - Math.log(sum);
    }

    @Test
    @SuppressWarnings("unchecked")
    void scorePrintsLogprobsOfPyTorchsLogits() throws IOException {
        Map<String, Object> expected = expected();
        int[] ids = Json.toIntArray(((List<?>) expected.get("inputs")).get(0));
        List<List<Object>> logits = ((List<List<List<Object>>>) expected.get("logits")).get(0);
        String text = TOKENIZER.decode(ids);
        assertArrayEquals(ids, TOKENIZER.encode(text), "the text must encode back to the fixture's ids");
        Path file = tmp.resolve("text.txt");
        Files.writeString(file, text);

        CliRun run = CliRun.of("score", "--model", MODEL.toString(), file.toString());
        assertEquals(0, run.exitCode(), run.err());
        Map<String, Object> json = Json.parseObject(run.out().strip());
        assertEquals(List.of("token_ids", "logprobs", "nll", "perplexity"), List.copyOf(json.keySet()));
        assertArrayEquals(ids, Json.toIntArray(json.get("token_ids")));
        List<?> logprobs = (List<?>) json.get("logprobs");
        assertEquals(ids.length - 1, logprobs.size());
        double sum = 0;
        for (int i = 0; i < logprobs.size(); i++) {
            double reference = logSoftmax(logits.get(i), ids[i + 1]);
            sum += reference;
            assertEquals(reference, ((Number) logprobs.get(i)).doubleValue(), 1e-4, "token " + (i + 1));
        }
        double nll = -sum / logprobs.size();
        assertEquals(nll, ((Number) json.get("nll")).doubleValue(), 1e-4);
        assertEquals(Math.exp(nll), ((Number) json.get("perplexity")).doubleValue(), 1e-3 * Math.exp(nll));
    }

    @Test
    void scoreWithBosScoresEveryToken() throws IOException {
        Path file = tmp.resolve("text.txt");
        Files.writeString(file, "Hello world");
        CliRun run = CliRun.of("score", "--model", MODEL.toString(), "--bos", file.toString());
        assertEquals(0, run.exitCode(), run.err());
        Map<String, Object> json = Json.parseObject(run.out().strip());
        int[] ids = Json.toIntArray(json.get("token_ids"));
        assertEquals(50256, ids[0]);
        assertArrayEquals(TOKENIZER.encode("Hello world"), Arrays.copyOfRange(ids, 1, ids.length));
        assertEquals(ids.length - 1, ((List<?>) json.get("logprobs")).size());
    }

    @Test
    void scoreOfAMissingFileFailsNamingIt() {
        CliRun run = CliRun.of("score", "--model", MODEL.toString(), tmp.resolve("nope.txt").toString());
        assertNotEquals(0, run.exitCode());
        assertTrue(run.err().contains("nope.txt"), run.err());
        assertEquals("", run.out());
    }

    @Test
    void serveRefusesABadPortOrOneInUse() throws IOException {
        CliRun outOfRange = CliRun.of("serve", "--model", MODEL.toString(), "--port", "70000");
        assertNotEquals(0, outOfRange.exitCode());
        assertTrue(outOfRange.err().contains("--port"), outOfRange.err());
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            CliRun inUse = CliRun.of("serve", "--model", MODEL.toString(), "--port", String.valueOf(taken.getLocalPort()));
            assertNotEquals(0, inUse.exitCode());
            assertTrue(inUse.err().contains("in use"), inUse.err());
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void greedyGenerationEqualsPyTorchsContinuation() throws IOException {
        Map<String, Object> greedy = (Map<String, Object>) expected().get("greedy");
        String prompt = (String) greedy.get("prompt_text");
        assertArrayEquals(Json.toIntArray(greedy.get("prompt")), TOKENIZER.encode(prompt));
        int[] tokens = Json.toIntArray(greedy.get("tokens"));
        CliRun run = CliRun.of("generate", "--model", MODEL.toString(), "--greedy", "--max-tokens", "50", prompt);
        assertEquals(0, run.exitCode(), run.err());
        assertEquals(TOKENIZER.decode(tokens) + "\n", run.out());
    }

    @Test
    void seededSamplesRepeatAndSeveralAreSeparated() {
        String[] args = {"generate", "--model", MODEL.toString(), "--seed", "42", "--num-samples", "2", "--top-k", "50",
                "--max-tokens", "8", "Hello"};
        CliRun first = CliRun.of(args);
        CliRun second = CliRun.of(args);
        assertEquals(0, first.exitCode(), first.err());
        assertEquals(first.out(), second.out());
        assertEquals(2, first.out().split("\n---\n").length, first.out());
    }

    @Test
    void promptTooLongIsAnErrorAndTruncateKeepsItsEnd() {
        String prompt = "hello" + " hello".repeat(70);
        CliRun tooLong = CliRun.of("generate", "--model", MODEL.toString(), "--greedy", "--max-tokens", "5", prompt);
        assertNotEquals(0, tooLong.exitCode());
        assertTrue(tooLong.err().contains("exceeds the model's context of 64"), tooLong.err());
        assertEquals("", tooLong.out());

        // 64 + 1 - 5 = 60 prompt tokens kept: " hello" sixty times, each one token.
        CliRun truncated = CliRun.of("generate", "--model", MODEL.toString(), "--greedy", "--max-tokens", "5", "--truncate", prompt);
        CliRun kept = CliRun.of("generate", "--model", MODEL.toString(), "--greedy", "--max-tokens", "5", " hello".repeat(60));
        assertEquals(0, truncated.exitCode(), truncated.err());
        assertEquals(kept.out(), truncated.out());
        assertTrue(truncated.out().length() > 1);
    }

    @Test
    void withoutPromptsGenerateReadsLinesFromStdin() {
        InputStream stdin = System.in;
        try {
            System.setIn(new ByteArrayInputStream("Hello\nThe cat\n".getBytes(StandardCharsets.UTF_8)));
            CliRun run = CliRun.of("generate", "--model", MODEL.toString(), "--greedy", "--max-tokens", "4");
            assertEquals(0, run.exitCode(), run.err());
            CliRun hello = CliRun.of("generate", "--model", MODEL.toString(), "--greedy", "--max-tokens", "4", "Hello");
            CliRun cat = CliRun.of("generate", "--model", MODEL.toString(), "--greedy", "--max-tokens", "4", "The cat");
            assertEquals(hello.out() + cat.out(), run.out());
            assertEquals("", run.err(), "no '> ' prompts when stdin is not a terminal");
        } finally {
            System.setIn(stdin);
        }
    }

    @Test
    void aModelWithoutTokenizerFilesNeedsGpt2sVocabulary() {
        Path tiny = MODEL.resolveSibling("tiny-f32"); // vocab 512, no vocab.json / merges.txt
        CliRun run = CliRun.of("generate", "--model", tiny.toString(), "Hello");
        assertNotEquals(0, run.exitCode());
        assertTrue(run.err().contains("no tokenizer files"), run.err());
    }

    @Test
    void benchPrintsOneJsonLine() {
        for (String mode : List.of("decode", "prefill")) {
            CliRun run = CliRun.of("bench", mode, "--model", MODEL.toString(), "--prompt", "8", "--tokens", "4");
            assertEquals(0, run.exitCode(), run.err());
            String[] lines = run.out().strip().split("\n");
            assertEquals(1, lines.length, run.out());
            Map<String, Object> json = Json.parseObject(lines[0]);
            assertEquals(mode, json.get("mode"));
            assertTrue(((Number) json.get("tokens_per_second")).doubleValue() > 0, lines[0]);
            assertEquals(mode.equals("decode") ? 4L : 8L, json.get("tokens"));
            if (mode.equals("decode")) {
                double bandwidth = ((Number) json.get("memory_bandwidth_gb_per_s")).doubleValue();
                double streamed = ((Number) json.get("streamed_bytes_per_token")).doubleValue();
                assertTrue(bandwidth > 0, lines[0]);
                assertEquals(bandwidth * 1e9 / streamed, ((Number) json.get("roofline_tokens_per_second")).doubleValue(), 1e-3);
                // Three rounds by default, sorted; the median one is the reported figure.
                List<?> rounds = (List<?>) json.get("roofline_fractions_of_rounds");
                assertEquals(3, rounds.size(), lines[0]);
                double[] fractions = rounds.stream().mapToDouble(f -> ((Number) f).doubleValue()).toArray();
                assertTrue(fractions[0] <= fractions[1] && fractions[1] <= fractions[2], lines[0]);
                assertEquals(fractions[1], ((Number) json.get("roofline_fraction")).doubleValue(), 1e-9 * fractions[1]);
            }
        }
    }

    @Test
    void benchTrainReportsThroughputUtilisationAndMemory() {
        Path tiny = MODEL.resolveSibling("tiny-f32");
        CliRun run = CliRun.of("bench", "train", "--model", tiny.toString(), "--batch", "2", "--seq", "8", "--steps", "2");
        assertEquals(0, run.exitCode(), run.err());
        Map<String, Object> json = Json.parseObject(run.out().strip());
        assertEquals("train", json.get("mode"));
        assertEquals(2L, json.get("batch"));
        assertEquals(8L, json.get("seq"));
        double tokensPerSecond = ((Number) json.get("tokens_per_second")).doubleValue();
        double secondsPerStep = ((Number) json.get("seconds_per_step")).doubleValue();
        assertEquals(16 / secondsPerStep, tokensPerSecond, 1e-6 * tokensPerSecond);
        assertTrue(((Number) json.get("mfu")).doubleValue() > 0, run.out());
        assertTrue(((Number) json.get("gemm_gflops")).doubleValue() > 0, run.out());
        assertTrue(((Number) json.get("peak_rss_bytes")).longValue() > 0, run.out());
    }

    @Test
    @SuppressWarnings("unchecked")
    void withoutModelTheBuiltInModelUnderJgptHomeIsUsed() throws IOException {
        Path demo = Files.createDirectories(tmp.resolve("home/models/demo"));
        for (String file : List.of("config.json", "model.safetensors", "vocab.json", "merges.txt")) {
            Files.copy(MODEL.resolve(file), demo.resolve(file));
        }
        Map<String, Object> greedy = (Map<String, Object>) expected().get("greedy");
        String previous = System.getProperty("jgpt.home");
        try {
            System.setProperty("jgpt.home", tmp.resolve("home").toString());
            CliRun run = CliRun.of("generate", "--greedy", "--max-tokens", "50", (String) greedy.get("prompt_text"));
            assertEquals(0, run.exitCode(), run.err());
            assertEquals(TOKENIZER.decode(Json.toIntArray(greedy.get("tokens"))) + "\n", run.out());

            System.setProperty("jgpt.home", tmp.resolve("nowhere").toString());
            CliRun missing = CliRun.of("generate", "Hello");
            assertNotEquals(0, missing.exitCode());
            assertTrue(missing.err().contains("built-in demo model is missing"), missing.err());
        } finally {
            if (previous == null) System.clearProperty("jgpt.home");
            else System.setProperty("jgpt.home", previous);
        }
    }
}
