package org.jgpt.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * POST /v1/embeddings over an embedder that makes a vector from a text's characters: OpenAI's response shape, one
 * unit vector per input in order, the same numbers as JSON floats and as base64 float32, usage counting the tokens;
 * bad requests get 400 with a message, and the text endpoints tell that this model only embeds.
 */
class EmbeddingsServerTest {
    private static final HttpClient CLIENT = HttpClient.newHttpClient();
    private static Server server;

    /** Three numbers from the text, not of unit length; its length + 2 tokens, as {@code <s> ... </s>}. */
    private static Embedder.Embedding fake(String text) {
        float[] v = {text.length() + 1, text.chars().filter(c -> c == 'a').count(), -3};
        return new Embedder.Embedding(v, text.length() + 2);
    }

    @BeforeAll
    static void start() throws Exception {
        server = Server.startEmbeddings(texts -> texts.stream().map(EmbeddingsServerTest::fake).toList(), "sentences",
                new InetSocketAddress("127.0.0.1", 0));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static float[] unit(float[] v) {
        double norm = 0;
        for (float x : v) norm += x * x;
        float[] u = new float[v.length];
        for (int i = 0; i < v.length; i++) u[i] = (float) (v[i] / Math.sqrt(norm));
        return u;
    }

    private static float[] floats(Object embedding) {
        if (embedding instanceof String base64) {
            ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(base64)).order(ByteOrder.LITTLE_ENDIAN);
            float[] v = new float[bytes.remaining() / 4];
            for (int i = 0; i < v.length; i++) v[i] = bytes.getFloat();
            return v;
        }
        return Json.toFloatArray(embedding);
    }

    @Test
    void answersOpenAisShapeWithAUnitVectorPerInput() throws Exception {
        List<String> inputs = List.of("a banana", "", "cat");
        for (String format : List.of("float", "base64")) {
            HttpResponse<String> response = post("/v1/embeddings", Json.write(Map.of("model", "anything", "input", inputs,
                    "encoding_format", format)));
            assertEquals(200, response.statusCode(), response.body());
            Map<String, Object> body = Json.parseObject(response.body());
            assertEquals("list", body.get("object"));
            assertEquals("sentences", body.get("model"));
            List<?> data = (List<?>) body.get("data");
            assertEquals(3, data.size());
            for (int i = 0; i < 3; i++) {
                Map<?, ?> item = (Map<?, ?>) data.get(i);
                assertEquals("embedding", item.get("object"));
                assertEquals((long) i, item.get("index"));
                float[] expected = unit(fake(inputs.get(i)).vector());
                float[] actual = floats(item.get("embedding"));
                assertEquals(3, actual.length);
                for (int d = 0; d < 3; d++) assertEquals(expected[d], actual[d], 1e-6, format + " input " + i);
            }
            Map<?, ?> usage = (Map<?, ?>) body.get("usage");
            assertEquals(10L + 2 + 5, usage.get("prompt_tokens"));
            assertEquals(usage.get("prompt_tokens"), usage.get("total_tokens"));
        }
        Map<String, Object> one = Json.parseObject(post("/v1/embeddings", "{\"input\": \"cat\"}").body());
        assertEquals(1, ((List<?>) one.get("data")).size());
    }

    @Test
    void badRequestsGetAClearError() throws Exception {
        assertError(400, "'input' is required", post("/v1/embeddings", "{\"model\": \"m\"}"));
        assertError(400, "'input' is an empty list", post("/v1/embeddings", "{\"input\": []}"));
        assertError(400, "a string or a list of strings", post("/v1/embeddings", "{\"input\": [1, 2, 3]}"));
        assertError(400, "'encoding_format' must be float or base64", post("/v1/embeddings", "{\"input\": \"a\", \"encoding_format\": \"int8\"}"));
        assertError(400, "unknown field 'dimension'", post("/v1/embeddings", "{\"input\": \"a\", \"dimension\": 3}"));
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 2049; i++) many.add("x");
        assertError(400, "more than 2048", post("/v1/embeddings", Json.write(Map.of("input", many))));
        assertError(400, "is a sentence encoder", post("/v1/completions", "{\"prompt\": \"a\"}"));
        assertError(400, "is a sentence encoder", post("/tokenize", "{\"content\": \"a\"}"));
        HttpResponse<String> get = CLIENT.send(HttpRequest.newBuilder(uri("/v1/embeddings")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertError(405, "takes POST", get);
        assertEquals(200, CLIENT.send(HttpRequest.newBuilder(uri("/health")).GET().build(), HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    private static void assertError(int status, String messagePart, HttpResponse<String> response) {
        assertEquals(status, response.statusCode(), response.body());
        Map<?, ?> error = (Map<?, ?>) Json.parseObject(response.body()).get("error");
        assertTrue(((String) error.get("message")).contains(messagePart), error.toString());
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }
}
