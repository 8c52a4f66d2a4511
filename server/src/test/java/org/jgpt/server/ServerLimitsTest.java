package org.jgpt.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jgpt.io.Json;
import org.jgpt.kernel.DType;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.GPT2Weights;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The limits, under a bounded load on 127.0.0.1 (a few dozen connections, each test over within seconds): clients
 * that send headers and withhold their body, idle connections and streams dropped mid-way leave /health and other
 * clients' completions answered within a second; withheld bodies get 408 after the read timeout and idle connections
 * are closed after the idle timeout; a dropped client, streamed or not, frees its places in the batch at once; a full
 * queue answers 503 with Retry-After; and the server serves on afterwards.
 */
class ServerLimitsTest {
    private static final GPT2Config CONFIG = new GPT2Config(50257, 1024, 128, 2, 2, 512, 1e-5f, "gelu_new", true, false,
            50256, 50256);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration PROMPTLY = Duration.ofSeconds(1);
    private static GPT2Weights weights;
    private static Server server;
    private static final ByteArrayOutputStream ACCESS_LOG = new ByteArrayOutputStream();
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        weights = GPT2Weights.random(CONFIG, 5, DType.F32);
        server = Server.start(new GPT2Model(weights), GPT2Tokenizer.gpt2(), "tiny", new InetSocketAddress("127.0.0.1", 0),
                Server.Options.defaults().withLimits(4, 2).withTimeouts(READ_TIMEOUT, IDLE_TIMEOUT)
                        .withAccessLog(new PrintStream(ACCESS_LOG, true, StandardCharsets.UTF_8)));
        post("{\"prompt\": \"warm up\", \"max_tokens\": 8}", Duration.ofSeconds(60)); // the JIT, before timing anything
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        weights.close();
    }

    @Test
    void slowBodiesAndIdleConnectionsHoldUpNoOne() throws Exception {
        List<Socket> slow = new ArrayList<>();
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                Socket socket = connect();
                socket.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 200\r\n\r\n{\"prompt\": ").getBytes(StandardCharsets.US_ASCII));
                slow.add(socket);
                idle.add(connect());
            }
            for (int round = 0; round < 3; round++) {
                assertEquals(200, get("/health", PROMPTLY).statusCode());
                assertEquals(200, post("{\"prompt\": \"Hello\", \"max_tokens\": 4}", PROMPTLY).statusCode());
            }
            for (Socket socket : slow) {
                String answer = readAll(socket);
                assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
                assertTrue(answer.contains("did not arrive in time"), answer);
            }
            for (Socket socket : idle) assertEquals(-1, socket.getInputStream().read(), "an idle connection is closed");
        } finally {
            for (Socket socket : slow) socket.close();
            for (Socket socket : idle) socket.close();
        }
        assertEquals(200, get("/health", PROMPTLY).statusCode());
    }

    @Test
    void droppedClientsFreeTheirPlacesAtOnce() throws Exception {
        List<Socket> dropped = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Socket streamed = connect();
            send(streamed, "{\"prompt\": \"Once\", \"max_tokens\": 1000, \"stream\": true}");
            readUntil(streamed, "data: ");
            dropped.add(streamed);
            Socket whole = connect();
            send(whole, "{\"prompt\": \"Twice\", \"max_tokens\": 1000}");
            dropped.add(whole);
        }
        awaitRunning(4);
        assertEquals(200, get("/health", PROMPTLY).statusCode());
        for (Socket socket : dropped) socket.close();
        awaitRunning(0);
        assertEquals(200, post("{\"prompt\": \"Hello\", \"max_tokens\": 4}", PROMPTLY).statusCode());
        List<String> completions = ACCESS_LOG.toString(StandardCharsets.UTF_8).lines()
                .filter(line -> line.contains("POST /v1/completions")).toList();
        assertTrue(completions.stream().filter(line -> line.endsWith("aborted")).count() >= 4, String.join("\n", completions));
    }

    @Test
    void aFullQueueAnswers503WithRetryAfter() throws Exception {
        List<Socket> holding = new ArrayList<>();
        try {
            Socket full = connect();
            send(full, "{\"prompt\": \"Fill\", \"max_tokens\": 1000, \"n\": 4, \"stream\": true}");
            readUntil(full, "data: ");
            holding.add(full);
            for (int i = 0; i < 2; i++) {
                Socket waiting = connect();
                send(waiting, "{\"prompt\": \"Wait\", \"max_tokens\": 4}");
                holding.add(waiting);
            }
            awaitQueued(2);
            HttpResponse<String> refused = post("{\"prompt\": \"One more\", \"max_tokens\": 4}", PROMPTLY);
            assertEquals(503, refused.statusCode(), refused.body());
            assertEquals("1", refused.headers().firstValue("Retry-After").orElse(null));
            assertTrue(refused.body().contains("busy"), refused.body());
            assertEquals(200, get("/health", PROMPTLY).statusCode());
        } finally {
            for (Socket socket : holding) socket.close();
        }
        awaitRunning(0);
        assertEquals(200, post("{\"prompt\": \"Hello\", \"max_tokens\": 4}", PROMPTLY).statusCode());
    }

    /** One keep-alive connection serves request after request, each watched for its client's close in turn. */
    @Test
    void aKeepAliveConnectionServesRequestAfterRequest() throws Exception {
        try (Socket socket = connect()) {
            InputStream in = socket.getInputStream();
            for (int i = 0; i < 40; i++) {
                send(socket, "{\"prompt\": \"Hi\", \"max_tokens\": 1}");
                String head = readHead(in);
                assertTrue(head.startsWith("HTTP/1.1 200"), "request " + i + ": " + head);
                int length = Integer.parseInt(head.lines().filter(line -> line.toLowerCase().startsWith("content-length:"))
                        .findFirst().orElseThrow().substring("content-length:".length()).trim());
                assertTrue(Json.parseObject(new String(in.readNBytes(length), StandardCharsets.UTF_8)).containsKey("choices"));
            }
        }
    }

    private static String readHead(InputStream in) throws Exception {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new AssertionError("closed after " + head);
            head.append((char) b);
        }
        return head.toString();
    }

    /** Polls /metrics until the batch holds {@code sequences}. */
    private static void awaitRunning(int sequences) throws Exception {
        awaitGauge("jgpt_running_sequences", sequences);
    }

    private static void awaitQueued(int requests) throws Exception {
        awaitGauge("jgpt_queue_depth", requests);
    }

    /** Polls /metrics until the gauge reads {@code value}, for a second at most. */
    private static void awaitGauge(String name, int value) throws Exception {
        String last = "";
        long deadline = System.nanoTime() + PROMPTLY.toNanos();
        while (System.nanoTime() < deadline) {
            last = get("/metrics", PROMPTLY).body();
            if (last.lines().anyMatch(line -> line.equals(name + " " + value))) return;
            Thread.sleep(10);
        }
        throw new AssertionError(name + " did not reach " + value + " within a second:\n" + last);
    }

    private static Socket connect() throws Exception {
        Socket socket = new Socket("127.0.0.1", server.port());
        socket.setSoTimeout(30_000);
        return socket;
    }

    private static void send(Socket socket, String json) throws Exception {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
    }

    private static void readUntil(Socket socket, String marker) throws Exception {
        InputStream in = socket.getInputStream();
        StringBuilder seen = new StringBuilder();
        while (!seen.toString().contains(marker)) {
            int b = in.read();
            if (b < 0) throw new AssertionError("closed before '" + marker + "': " + seen);
            seen.append((char) b);
        }
    }

    private static String readAll(Socket socket) throws Exception {
        return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    private static HttpResponse<String> get(String path, Duration within) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(uri(path)).timeout(within).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String json, Duration within) throws Exception {
        HttpResponse<String> response = CLIENT.send(HttpRequest.newBuilder(uri("/v1/completions")).timeout(within)
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) Json.parseObject(response.body()); // a whole answer
        return response;
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

}
