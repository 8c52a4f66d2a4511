package org.jgpt.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jgpt.generate.GenerationOptions;
import org.jgpt.generate.Generator;
import org.jgpt.generate.Scorer;
import org.jgpt.generate.TokenLogprob;
import org.jgpt.io.Json;
import org.jgpt.kernel.DType;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.GPT2Weights;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP layer against the in-process API it wraps, on a small random GPT-2 with GPT-2's tokenizer: completions
 * (plain and streamed) equal {@link Generator}'s with the same options, scores equal {@link Scorer}'s, tokens equal
 * the tokenizer's, and bad requests get 400, 404 or 405 with a message that names the problem.
 */
class ServerTest {
    private static final GPT2Config CONFIG = new GPT2Config(50257, 64, 32, 2, 2, 128, 1e-5f, "gelu_new", true, false,
            50256, 50256);
    private static GPT2Weights weights;
    private static GPT2Model model;
    private static Tokenizer tokenizer;
    private static Server server;
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws IOException {
        weights = GPT2Weights.random(CONFIG, 11, DType.F32);
        model = new GPT2Model(weights);
        tokenizer = GPT2Tokenizer.gpt2();
        server = Server.start(model, tokenizer, "tiny", new InetSocketAddress("127.0.0.1", 0));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        weights.close();
    }

    @Test
    void completionsEqualTheGeneratorsWithTheSameOptions() throws Exception {
        HttpResponse<String> response = post("/v1/completions", """
                {"model": "tiny", "prompt": ["Hello there", "The year"], "max_tokens": 12, "temperature": 0.8,
                 "top_k": 40, "top_p": 0.95, "repetition_penalty": 1.2, "n": 2, "seed": 7}""");
        assertEquals(200, response.statusCode(), response.body());
        Map<String, Object> body = Json.parseObject(response.body());
        assertEquals("text_completion", body.get("object"));
        assertEquals("tiny", body.get("model"));

        GenerationOptions options = new GenerationOptions(12, 0.8f, 40, 0.95f, 1.2f, List.of(), 7, 2, false);
        List<Generator.Completion> expected = new Generator(model, tokenizer)
                .generate(List.of("Hello there", "The year"), options, (sequence, text) -> {});
        List<?> choices = (List<?>) body.get("choices");
        assertEquals(4, choices.size());
        long completionTokens = 0;
        for (int i = 0; i < 4; i++) {
            Map<?, ?> choice = (Map<?, ?>) choices.get(i);
            assertEquals((long) i, choice.get("index"));
            assertEquals(expected.get(i).text(), choice.get("text"), "choice " + i);
            assertEquals("length", choice.get("finish_reason"));
            completionTokens += expected.get(i).tokens().length;
        }
        Map<?, ?> usage = (Map<?, ?>) body.get("usage");
        long promptTokens = tokenizer.encode("Hello there").length + tokenizer.encode("The year").length;
        assertEquals(promptTokens, usage.get("prompt_tokens"));
        assertEquals(completionTokens, usage.get("completion_tokens"));
        assertEquals(promptTokens + completionTokens, usage.get("total_tokens"));
    }

    @Test
    void streamedPiecesAddUpToTheCompletion() throws Exception {
        String request = """
                {"prompt": ["Once upon", "In the"], "max_tokens": 10, "n": 2, "seed": 3, "temperature": 0.9%s}""";
        Map<String, Object> whole = Json.parseObject(post("/v1/completions", request.formatted("")).body());
        HttpResponse<String> response = post("/v1/completions", request.formatted(", \"stream\": true"));
        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));

        List<String> events = new ArrayList<>();
        for (String line : response.body().split("\n")) {
            if (!line.isEmpty()) {
                assertTrue(line.startsWith("data: "), line);
                events.add(line.substring("data: ".length()));
            }
        }
        assertEquals("[DONE]", events.getLast());
        Map<Long, StringBuilder> texts = new HashMap<>();
        Map<Long, String> finished = new HashMap<>();
        for (String event : events.subList(0, events.size() - 1)) {
            Map<?, ?> choice = (Map<?, ?>) ((List<?>) Json.parseObject(event).get("choices")).getFirst();
            long index = (Long) choice.get("index");
            assertTrue(!finished.containsKey(index), "text after the finish of choice " + index);
            texts.computeIfAbsent(index, k -> new StringBuilder()).append((String) choice.get("text"));
            if (choice.get("finish_reason") != null) finished.put(index, (String) choice.get("finish_reason"));
        }
        List<?> choices = (List<?>) whole.get("choices");
        assertEquals(choices.size(), finished.size());
        for (Object o : choices) {
            Map<?, ?> choice = (Map<?, ?>) o;
            long index = (Long) choice.get("index");
            assertEquals(choice.get("text"), texts.get(index).toString(), "choice " + index);
            assertEquals(choice.get("finish_reason"), finished.get(index));
        }
    }

    @Test
    void aStopStringEndsTheTextBeforeIt() throws Exception {
        String greedy = text(post("/v1/completions", "{\"prompt\": \"Hello\", \"max_tokens\": 20, \"temperature\": 0}"));
        String stop = greedy.substring(greedy.length() / 2, greedy.length() / 2 + 2);
        HttpResponse<String> response = post("/v1/completions", Json.write(Map.of("prompt", "Hello",
                "max_tokens", 20, "temperature", 0, "stop", List.of(stop))));
        Map<?, ?> choice = (Map<?, ?>) ((List<?>) Json.parseObject(response.body()).get("choices")).getFirst();
        assertEquals(greedy.substring(0, greedy.indexOf(stop)), choice.get("text"));
        assertEquals("stop", choice.get("finish_reason"));
    }

    @Test
    void scoresTokensAndHealthMatchTheLibrary() throws Exception {
        Map<String, Object> score = Json.parseObject(post("/v1/score",
                "{\"text\": \"The quick brown fox\", \"bos\": true}").body());
        int[] tokens = Json.toIntArray(score.get("token_ids"));
        assertEquals(tokenizer.endOfText(), tokens[0]);
        double[] expected = new Scorer(model).scoreTokens(tokens);
        List<?> logprobs = (List<?>) score.get("logprobs");
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], ((Number) logprobs.get(i)).doubleValue(), 0);

        int[] encoded = Json.toIntArray(Json.parseObject(post("/tokenize", "{\"content\": \"naïve café\"}").body())
                .get("tokens"));
        assertArrayEquals(tokenizer.encode("naïve café"), encoded);
        assertEquals("naïve café", Json.parseObject(post("/detokenize", Json.write(Map.of("tokens", encoded))).body())
                .get("content"));

        assertEquals("ok", Json.parseObject(get("/health").body()).get("status"));
        Map<?, ?> model = (Map<?, ?>) ((List<?>) Json.parseObject(get("/v1/models").body()).get("data")).getFirst();
        assertEquals("tiny", model.get("id"));
    }

    /**
     * What lm-evaluation-harness asks for a log-likelihood: token-id prompts, echo, greedy tokens, logprobs. The
     * prompt's log-probabilities equal {@link Scorer}'s; the generated tokens', computed while decoding with the KV
     * cache in a batch of two, equal Scorer's over prompt and tokens together (1e-5 nats). Token-id prompts complete
     * as their texts do.
     */
    @Test
    void echoedLogprobsEqualTheScorersAndTokenPromptsTheTexts() throws Exception {
        List<int[]> prompts = List.of(tokenizer.encode("The quick brown fox jumps"), tokenizer.encode("In the year"));
        Map<String, Object> body = Json.parseObject(post("/v1/completions", Json.write(Map.of("prompt", prompts,
                "max_tokens", 3, "temperature", 0, "logprobs", 3, "echo", true))).body());
        GenerationOptions greedy = GenerationOptions.defaults().withMaxNewTokens(3).withTemperature(0f);
        List<Generator.Completion> completions = new Generator(model, tokenizer)
                .generateTokens(prompts, greedy, 3, (sequence, text) -> {});
        for (int c = 0; c < prompts.size(); c++) {
            int[] prompt = prompts.get(c);
            int[] generated = completions.get(c).tokens();
            int[] all = Arrays.copyOf(prompt, prompt.length + generated.length);
            System.arraycopy(generated, 0, all, prompt.length, generated.length);
            Map<?, ?> choice = (Map<?, ?>) ((List<?>) body.get("choices")).get(c);
            assertEquals(tokenizer.decode(prompt) + completions.get(c).text(), choice.get("text"));
            Map<?, ?> logprobs = (Map<?, ?>) choice.get("logprobs");
            List<?> tokens = (List<?>) logprobs.get("tokens");
            List<?> tokenLogprobs = (List<?>) logprobs.get("token_logprobs");
            List<?> top = (List<?>) logprobs.get("top_logprobs");
            List<?> offsets = (List<?>) logprobs.get("text_offset");
            assertEquals(all.length, tokens.size());
            assertEquals(null, tokenLogprobs.getFirst());
            assertEquals(null, top.getFirst());
            List<TokenLogprob> expected = new Scorer(model).tokenLogprobs(all, 3);
            long offset = 0;
            for (int i = 0; i < all.length; i++) {
                String at = "choice " + c + ", token " + i;
                assertEquals(tokenizer.decode(new int[] {all[i]}), tokens.get(i), at);
                assertEquals(offset, offsets.get(i), at);
                offset += tokenizer.decode(new int[] {all[i]}).length();
                if (i == 0) continue;
                TokenLogprob lp = expected.get(i - 1);
                double tolerance = i < prompt.length ? 0 : 1e-5;
                assertEquals(lp.logprob(), ((Number) tokenLogprobs.get(i)).doubleValue(), tolerance, at);
                Map<?, ?> alternatives = (Map<?, ?>) top.get(i);
                assertEquals(3, alternatives.size(), at);
                for (int k = 0; k < 3; k++) {
                    Object value = alternatives.get(tokenizer.decode(new int[] {lp.topTokens()[k]}));
                    assertEquals(lp.topLogprobs()[k], ((Number) value).doubleValue(), tolerance, at + ", rank " + k);
                }
                if (i >= prompt.length) assertEquals(lp.topTokens()[0], all[i], at + ": greedy takes the most likely");
            }
        }

        String fromText = text(post("/v1/completions", Json.write(Map.of("prompt", List.of("Hello there", "The year"),
                "max_tokens", 6, "temperature", 0))));
        String fromIds = text(post("/v1/completions", Json.write(Map.of("prompt",
                List.of(tokenizer.encode("Hello there"), tokenizer.encode("The year")), "max_tokens", 6, "temperature", 0))));
        assertEquals(fromText, fromIds);
    }

    @Test
    void echoWithNoNewTokensScoresThePromptAlone() throws Exception {
        Map<String, Object> body = Json.parseObject(post("/v1/completions", Json.write(Map.of("prompt", "Hello there",
                "max_tokens", 0, "logprobs", 0, "echo", true))).body());
        Map<?, ?> choice = (Map<?, ?>) ((List<?>) body.get("choices")).getFirst();
        assertEquals("Hello there", choice.get("text"));
        List<?> tokenLogprobs = (List<?>) ((Map<?, ?>) choice.get("logprobs")).get("token_logprobs");
        double[] expected = new Scorer(model).scoreTokens(tokenizer.encode("Hello there"));
        assertEquals(expected.length + 1, tokenLogprobs.size());
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], ((Number) tokenLogprobs.get(i + 1)).doubleValue(), 0);
        }
        assertEquals(0L, ((Map<?, ?>) body.get("usage")).get("completion_tokens"));
    }

    @Test
    void badRequestsGetAClearError() throws Exception {
        assertError(400, "expected", post("/v1/completions", "{\"prompt\": "));
        assertError(400, "unknown field 'max_tokns'", post("/v1/completions", "{\"prompt\": \"a\", \"max_tokns\": 5}"));
        assertError(400, "'prompt' is required", post("/v1/completions", "{\"max_tokens\": 5}"));
        assertError(400, "'max_tokens' must be an integer", post("/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": \"5\"}"));
        assertError(400, "'max_tokens' must be at least 0", post("/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": -1}"));
        assertError(400, "temperature", post("/v1/completions", "{\"prompt\": \"a\", \"temperature\": -1}"));
        assertError(400, "context", post("/v1/completions", Json.write(Map.of("prompt", "word ".repeat(100)))));
        assertError(400, "context", post("/v1/completions", Json.write(Map.of("prompt", "word ".repeat(100), "stream", true))));
        assertError(400, "more than 64 completions", post("/v1/completions", "{\"prompt\": [\"a\", \"b\"], \"n\": 33}"));
        assertError(400, "outside the vocabulary", post("/detokenize", "{\"tokens\": [50257]}"));
        assertError(400, "outside the vocabulary", post("/v1/completions", "{\"prompt\": [1, 50257]}"));
        assertError(400, "list of token ids", post("/v1/completions", "{\"prompt\": [1.5]}"));
        assertError(400, "'logprobs' must be between 0 and 20", post("/v1/completions", "{\"prompt\": \"a\", \"logprobs\": 21}"));
        assertError(400, "only with 'echo'", post("/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": 0}"));
        assertError(400, "not available with 'stream'",
                post("/v1/completions", "{\"prompt\": \"a\", \"echo\": true, \"stream\": true}"));
        assertError(400, "scoring needs 2", post("/v1/score", "{\"text\": \"a\"}"));
        assertError(404, "no such endpoint", post("/v2/completions", "{}"));
        assertError(400, "generates text and has no embeddings", post("/v1/embeddings", "{\"input\": \"a\"}"));
        assertError(405, "takes POST", get("/v1/completions"));
    }

    private static void assertError(int status, String messagePart, HttpResponse<String> response) {
        assertEquals(status, response.statusCode(), response.body());
        Map<?, ?> error = (Map<?, ?>) Json.parseObject(response.body()).get("error");
        String message = (String) error.get("message");
        assertTrue(message.contains(messagePart), "'" + message + "' should mention '" + messagePart + "'");
    }

    private static String text(HttpResponse<String> response) {
        assertEquals(200, response.statusCode(), response.body());
        Map<?, ?> choice = (Map<?, ?>) ((List<?>) Json.parseObject(response.body()).get("choices")).getFirst();
        return (String) choice.get("text");
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }
}
