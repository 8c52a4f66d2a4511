package org.jgpt.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jgpt.generate.GenerationOptions;
import org.jgpt.generate.Generator;
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
import org.junit.jupiter.api.io.TempDir;

/**
 * What the server adds around generation, from Java's own client: chat completions through a template read from a
 * file (the same text as the generator on the rendered prompt), the API key, CORS, the metrics, streamed
 * log-probabilities adding up to the whole answer's, the playground's files, and a refused bad template.
 */
class ServerFeaturesTest {
    private static final GPT2Config CONFIG = new GPT2Config(50257, 128, 32, 2, 2, 128, 1e-5f, "gelu_new", true, false,
            50256, 50256);
    private static final HttpClient CLIENT = HttpClient.newHttpClient();
    private static GPT2Weights weights;
    private static GPT2Model model;
    private static Tokenizer tokenizer;
    private static Server server;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        weights = GPT2Weights.random(CONFIG, 17, DType.F32);
        model = new GPT2Model(weights);
        tokenizer = GPT2Tokenizer.gpt2();
        Path template = dir.resolve("chat.json");
        Files.writeString(template, """
                {"system": "[{content}]", "user": "Q: {content}\\n", "assistant": "A: {content}\\n", "generation": "A:",
                 "stop": ["\\nQ:"]}""");
        server = Server.start(model, tokenizer, "tiny", new InetSocketAddress("127.0.0.1", 0), Server.Options.defaults()
                .withApiKey("k").withCorsOrigins(List.of("http://page.test")).withChatTemplate(template).withAccessLog(null));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        weights.close();
    }

    @Test
    void chatRendersTheTemplateAndGeneratesAsTheGenerator() throws Exception {
        Map<String, Object> body = json(send("POST", "/v1/chat/completions", """
                {"messages": [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hi"},
                 {"role": "assistant", "content": [{"type": "text", "text": "Hello"}]}, {"role": "user", "content": "Why?"}],
                 "max_tokens": 9, "seed": 4, "temperature": 0.7, "n": 2}""", "k"));
        String prompt = "[Be brief]Q: Hi\nA: Hello\nQ: Why?\nA:";
        List<Generator.Completion> expected = new Generator(model, tokenizer).generate(List.of(prompt),
                new GenerationOptions(9, 0.7f, 0, 1f, 1f, List.of("\nQ:"), 4, 2, false), (s, t) -> {});
        List<?> choices = (List<?>) body.get("choices");
        for (int i = 0; i < 2; i++) {
            Map<?, ?> message = (Map<?, ?>) ((Map<?, ?>) choices.get(i)).get("message");
            assertEquals("assistant", message.get("role"));
            assertEquals(expected.get(i).text(), message.get("content"), "choice " + i);
        }
        assertEquals((long) tokenizer.encode(prompt).length, ((Map<?, ?>) body.get("usage")).get("prompt_tokens"));
    }

    @Test
    void streamedLogprobsAddUpToTheWholeAnswers() throws Exception {
        String request = "{\"prompt\": \"The sea\", \"max_tokens\": 8, \"seed\": 9, \"logprobs\": 2%s}";
        Map<?, ?> whole = (Map<?, ?>) ((Map<?, ?>) ((List<?>) json(send("POST", "/v1/completions",
                request.formatted(""), "k")).get("choices")).getFirst()).get("logprobs");
        List<Object> tokens = new ArrayList<>(), logprobs = new ArrayList<>(), offsets = new ArrayList<>();
        for (String line : send("POST", "/v1/completions", request.formatted(", \"stream\": true"), "k").body().split("\n")) {
            if (!line.startsWith("data: {")) continue;
            Map<?, ?> lp = (Map<?, ?>) ((Map<?, ?>) ((List<?>) Json.parseObject(line.substring(6)).get("choices"))
                    .getFirst()).get("logprobs");
            tokens.addAll((List<?>) lp.get("tokens"));
            logprobs.addAll((List<?>) lp.get("token_logprobs"));
            offsets.addAll((List<?>) lp.get("text_offset"));
        }
        assertEquals(whole.get("tokens"), tokens);
        assertEquals(whole.get("token_logprobs"), logprobs);
        assertEquals(whole.get("text_offset"), offsets);
    }

    @Test
    void theKeyGuardsTheApiButNotHealthMetricsOrThePlayground() throws Exception {
        HttpResponse<String> none = send("POST", "/tokenize", "{\"content\": \"a\"}", null);
        assertEquals(401, none.statusCode());
        assertEquals("Bearer", none.headers().firstValue("WWW-Authenticate").orElse(null));
        assertEquals("authentication_error", ((Map<?, ?>) json(none).get("error")).get("type"));
        assertEquals(401, send("GET", "/v1/models", null, "wrong").statusCode());
        assertEquals(200, send("GET", "/v1/models", null, "k").statusCode());
        assertEquals(200, send("GET", "/health", null, null).statusCode());
        HttpResponse<String> page = send("GET", "/", null, null);
        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
        assertTrue(page.body().contains("playground.js"));
        assertEquals(200, send("GET", "/playground.js", null, null).statusCode());
        assertEquals(200, send("GET", "/playground.css", null, null).statusCode());
        String metrics = send("GET", "/metrics", null, null).body();
        assertTrue(metrics.contains("# TYPE jgpt_requests_total counter"), metrics);
        assertTrue(metrics.contains("jgpt_requests_total{endpoint=\"/tokenize\",status=\"401\"} "), metrics);
        assertTrue(metrics.contains("jgpt_request_duration_seconds_bucket{endpoint=\"/health\",le=\"+Inf\"} "), metrics);
        assertTrue(metrics.contains("jgpt_queue_depth 0"), metrics);
    }

    @Test
    void corsAnswersTheAllowedOriginOnly() throws Exception {
        HttpResponse<String> preflight = CLIENT.send(HttpRequest.newBuilder(uri("/v1/completions"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "http://page.test")
                .header("Access-Control-Request-Method", "POST").header("Access-Control-Request-Headers", "authorization")
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(204, preflight.statusCode());
        assertEquals("http://page.test", preflight.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
        assertEquals("authorization", preflight.headers().firstValue("Access-Control-Allow-Headers").orElse(null));
        HttpResponse<String> other = CLIENT.send(HttpRequest.newBuilder(uri("/health")).header("Origin", "http://evil.test")
                .build(), HttpResponse.BodyHandlers.ofString());
        assertNull(other.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
    }

    @Test
    void aTemplateWithoutContentIsRefusedAtStart(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"system\": \"x\", \"user\": \"{content}\", \"assistant\": \"{content}\", \"generation\": \"\"}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Server.start(model, tokenizer,
                "tiny", new InetSocketAddress("127.0.0.1", 0), Server.Options.defaults().withChatTemplate(bad)));
        assertTrue(e.getMessage().contains("has no {content}"), e.getMessage());
    }

    private static Map<String, Object> json(HttpResponse<String> response) {
        return Json.parseObject(response.body());
    }

    private static HttpResponse<String> send(String method, String path, String body, String key) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (key != null) request.header("Authorization", "Bearer " + key);
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }
}
