package org.jgpt.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.jgpt.generate.BatchScheduler;
import org.jgpt.generate.Scorer;
import org.jgpt.model.GPT2Model;
import org.jgpt.tokenizer.Tokenizer;

/**
 * A model over HTTP, on Jetty 12. JSON in and out:
 * <ul>
 *   <li>{@code POST /v1/completions}: OpenAI's completions API (prompt as text or token ids, max_tokens, temperature,
 *       top_p, n, stop, seed, stream, logprobs, echo), plus top_k, repetition_penalty and truncate. With
 *       {@code "stream": true} the text arrives as server-sent events, one {@code data:} line per piece, then
 *       {@code data: [DONE]}. {@code logprobs} and {@code echo} are what lm-evaluation-harness's completions model
 *       scores with: {@code "echo": true, "max_tokens": 0} scores a prompt alone. Log-probabilities are the model's
 *       own distribution, before temperature, penalty or truncation.</li>
 *   <li>{@code POST /v1/chat/completions}: OpenAI's chat API, the messages made into a prompt by a
 *       {@link ChatTemplate}.</li>
 *   <li>{@code POST /v1/score}: {@code {"text", "bos"}} gives what {@code jgpt score} prints.</li>
 *   <li>{@code POST /tokenize} ({@code {"content", "with_pieces"}}) and {@code POST /detokenize} ({@code {"tokens"}}).</li>
 *   <li>{@code GET /health}, {@code GET /v1/models}, {@code GET /metrics} (Prometheus) and the playground at
 *       {@code GET /}.</li>
 * </ul>
 * Or, for a sentence encoder ({@link #startEmbeddings}), {@code POST /v1/embeddings}: OpenAI's embeddings API, unit
 * vectors as OpenAI's are, as JSON numbers or base64 float32; and the health, models and metrics endpoints.
 *
 * <p>Generation runs on a {@link BatchScheduler} (continuous batching). Each request is served on its own virtual
 * thread; Jetty's selector reads headers without holding a thread, a body must arrive within the read timeout, a
 * silent connection is closed after the idle timeout, a full queue answers 503 with {@code Retry-After}, and a
 * client that goes away, streaming or not ({@link ClientWatch}), frees its places in the batch at once. Bad requests get status 400 and OpenAI's error shape,
 * {@code {"error": {"message", "type"}}}. One line per request goes to the access log.
 */
public final class Server implements AutoCloseable {
    private static final int MAX_BODY_BYTES = 8 << 20;
    /** Texts one embeddings request may hold, as OpenAI's limit. */
    private static final int MAX_INPUTS = 2048;
    /** Paths named in the metrics; any other is counted as "other", so that the labels stay few. */
    private static final Set<String> ENDPOINTS = Set.of("/", "/playground.js", "/playground.css", "/health",
            "/metrics", "/v1/models", "/v1/completions", "/v1/chat/completions", "/v1/score", "/v1/embeddings",
            "/tokenize", "/detokenize");
    /** Files of the playground, served from the jar. */
    private static final Map<String, String> PLAYGROUND = Map.of("/", "index.html", "/playground.js", "playground.js",
            "/playground.css", "playground.css");
    private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT);

    /**
     * How the server behaves.
     *
     * @param apiKey        when not null, requests to the API (not /health, /metrics or the playground's files) need
     *                      {@code Authorization: Bearer <apiKey>}
     * @param corsOrigins   origins allowed to call from a browser ({@code *} for any); none: no CORS headers
     * @param chatTemplate  a JSON chat template (see {@link ChatTemplate}), or null for the default
     * @param maxSequences  sequences decoding at once, at most; also the most one request may ask for
     * @param maxQueued     requests waiting to start, at most; past that 503
     * @param readTimeout   the time a request's body has to arrive once its headers have
     * @param idleTimeout   a connection with nothing sent or received for this long is closed
     * @param accessLog     where each request's line goes, or null for none
     */
    public record Options(String apiKey, List<String> corsOrigins, Path chatTemplate, int maxSequences, int maxQueued,
                          Duration readTimeout, Duration idleTimeout, PrintStream accessLog) {
        public Options {
            corsOrigins = List.copyOf(corsOrigins);
            new BatchScheduler.Limits(maxSequences, maxQueued); // checks them
            if (readTimeout.isNegative() || readTimeout.isZero()) throw new IllegalArgumentException("the read timeout must be positive");
            if (idleTimeout.isNegative() || idleTimeout.isZero()) throw new IllegalArgumentException("the idle timeout must be positive");
            if (apiKey != null && apiKey.isEmpty()) throw new IllegalArgumentException("the API key is empty");
        }

        /** No key, no CORS, the default chat template, 64 sequences, 64 waiting, 10 s to read, 60 s idle, stderr. */
        public static Options defaults() {
            return new Options(null, List.of(), null, 64, 64, Duration.ofSeconds(10), Duration.ofSeconds(60), System.err);
        }

        public Options withApiKey(String key) {
            return new Options(key, corsOrigins, chatTemplate, maxSequences, maxQueued, readTimeout, idleTimeout, accessLog);
        }

        public Options withCorsOrigins(List<String> origins) {
            return new Options(apiKey, origins, chatTemplate, maxSequences, maxQueued, readTimeout, idleTimeout, accessLog);
        }

        public Options withChatTemplate(Path file) {
            return new Options(apiKey, corsOrigins, file, maxSequences, maxQueued, readTimeout, idleTimeout, accessLog);
        }

        public Options withLimits(int sequences, int queued) {
            return new Options(apiKey, corsOrigins, chatTemplate, sequences, queued, readTimeout, idleTimeout, accessLog);
        }

        public Options withTimeouts(Duration read, Duration idle) {
            return new Options(apiKey, corsOrigins, chatTemplate, maxSequences, maxQueued, read, idle, accessLog);
        }

        public Options withAccessLog(PrintStream log) {
            return new Options(apiKey, corsOrigins, chatTemplate, maxSequences, maxQueued, readTimeout, idleTimeout, log);
        }
    }

    private final org.eclipse.jetty.server.Server jetty;
    private final ServerConnector connector;
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
    private final Options options;
    private final String modelName;
    private final Metrics metrics;
    // the language model's parts, null when serving a sentence encoder
    private final Tokenizer tokenizer;
    private final BatchScheduler scheduler;
    private final Completions completions;
    private final Embedder embedder; // a sentence encoder, or null when serving a language model
    private final ReentrantLock embedderLock = new ReentrantLock(true);
    private final ClientWatch clientWatch = new ClientWatch();

    private Server(InetSocketAddress address, GPT2Model model, Tokenizer tokenizer, Embedder embedder, String modelName,
                   Options options) {
        this.options = options;
        this.modelName = modelName;
        this.tokenizer = tokenizer;
        this.embedder = embedder;
        ChatTemplate template = options.chatTemplate() == null ? ChatTemplate.defaults() : ChatTemplate.read(options.chatTemplate());
        if (model != null) {
            BatchScheduler[] built = new BatchScheduler[1];
            this.metrics = new Metrics(() -> built[0].queued(), () -> built[0].runningSequences());
            this.scheduler = built[0] = new BatchScheduler(model, tokenizer,
                    new BatchScheduler.Limits(options.maxSequences(), options.maxQueued()),
                    (sequences, rows, nanos) -> metrics.step(sequences, nanos));
            this.completions = new Completions(scheduler, new Scorer(model), tokenizer, model.config().nPositions(),
                    modelName, template, metrics, clientWatch);
        } else {
            this.metrics = new Metrics(() -> 0, () -> 0);
            this.scheduler = null;
            this.completions = null;
        }

        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("jgpt-http");
        threads.setDaemon(true);
        this.jetty = new org.eclipse.jetty.server.Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(true);
        this.connector = new ServerConnector(jetty, new HttpConnectionFactory(http));
        connector.setHost(address.getHostString());
        connector.setPort(address.getPort());
        connector.setIdleTimeout(options.idleTimeout().toMillis());
        jetty.addConnector(connector);
        jetty.addBean(new NetworkConnectionLimit(10_000, jetty));
        jetty.setHandler(new Handler.Abstract.NonBlocking() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                workers.execute(() -> serve(new Exchange(request, response, callback)));
                return true;
            }
        });
    }

    /** Starts serving {@code model} on {@code address} (port 0 picks a free port; see {@link #port()}). */
    public static Server start(GPT2Model model, Tokenizer tokenizer, String modelName, InetSocketAddress address)
            throws IOException {
        return start(model, tokenizer, modelName, address, Options.defaults());
    }

    public static Server start(GPT2Model model, Tokenizer tokenizer, String modelName, InetSocketAddress address,
                               Options options) throws IOException {
        return new Server(address, model, tokenizer, null, modelName, options).started();
    }

    /** Starts serving a sentence encoder's {@code POST /v1/embeddings} on {@code address}. */
    public static Server startEmbeddings(Embedder embedder, String modelName, InetSocketAddress address) throws IOException {
        return startEmbeddings(embedder, modelName, address, Options.defaults());
    }

    public static Server startEmbeddings(Embedder embedder, String modelName, InetSocketAddress address, Options options)
            throws IOException {
        return new Server(address, null, null, embedder, modelName, options).started();
    }

    private Server started() throws IOException {
        try {
            jetty.start();
            return this;
        } catch (Exception e) {
            close();
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof BindException bind) throw bind;
            }
            throw e instanceof IOException io ? io : new IOException("the server did not start: " + e.getMessage(), e);
        }
    }

    public int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() {
        try {
            jetty.stop();
        } catch (Exception e) {
            throw new IllegalStateException("stopping the HTTP server failed", e);
        } finally {
            if (scheduler != null) scheduler.close();
            workers.shutdownNow();
            clientWatch.close();
        }
    }

    /** One request, on its own virtual thread, from first byte of body to the access log. */
    private void serve(Exchange exchange) {
        Throwable failure = null;
        // A generation answered all at once sends nothing for a while: that is not an idle connection.
        exchange.request.addIdleTimeoutListener(timeout -> false);
        try {
            cors(exchange);
            if (exchange.method().equals("OPTIONS") && !options.corsOrigins().isEmpty()) {
                exchange.send(204, "text/plain", new byte[0]);
            } else {
                route(exchange);
            }
        } catch (Exchange.HttpError e) {
            if (e.status == 503) exchange.setHeader("Retry-After", "1");
            failure = answerError(exchange, e.status, e.getMessage());
        } catch (BatchScheduler.QueueFullException e) {
            exchange.setHeader("Retry-After", "1");
            failure = answerError(exchange, 503, e.getMessage());
        } catch (IllegalArgumentException e) {
            failure = answerError(exchange, 400, e.getMessage());
        } catch (UncheckedIOException e) {
            failure = e; // the client went away; nothing is left to tell it
            exchange.clientGone();
        } catch (RuntimeException e) {
            failure = answerError(exchange, 500, "internal error: " + e);
        } finally {
            log(exchange, failure);
            exchange.complete(failure);
        }
    }

    /** Sends an error if nothing was sent yet; otherwise the connection is aborted. Returns the failure, if any. */
    private static Throwable answerError(Exchange exchange, int status, String message) {
        if (exchange.committed()) return new IOException(message);
        try {
            exchange.sendError(status, message);
            return null;
        } catch (UncheckedIOException e) {
            return e;
        }
    }

    /** What answers one path, and the one HTTP method it takes. */
    private record Endpoint(String method, Action action) {}

    private interface Action {
        void answer(Exchange exchange);
    }

    private void route(Exchange exchange) {
        String path = exchange.path();
        Endpoint endpoint = switch (path) {
            case "/", "/playground.js", "/playground.css" -> new Endpoint("GET", this::playground);
            case "/health" -> new Endpoint("GET", e -> e.sendJson(200, Map.of("status", "ok")));
            case "/metrics" -> new Endpoint("GET", e -> e.send(200, "text/plain; version=0.0.4; charset=utf-8",
                    metrics.text().getBytes(StandardCharsets.UTF_8)));
            case "/v1/models" -> new Endpoint("GET", e -> e.sendJson(200, models()));
            case "/v1/completions" -> new Endpoint("POST", e -> completions.complete(e, fields(e)));
            case "/v1/chat/completions" -> new Endpoint("POST", e -> completions.chat(e, fields(e)));
            case "/v1/score" -> new Endpoint("POST", e -> e.sendJson(200, score(fields(e))));
            case "/tokenize" -> new Endpoint("POST", e -> e.sendJson(200, tokenize(fields(e))));
            case "/detokenize" -> new Endpoint("POST", e -> e.sendJson(200, detokenize(fields(e))));
            case "/v1/embeddings" -> new Endpoint("POST", e -> e.sendJson(200, embeddings(fields(e))));
            default -> throw new Exchange.HttpError(404, "no such endpoint: " + path);
        };
        String method = exchange.method();
        if (!method.equals(endpoint.method())) {
            exchange.setHeader("Allow", endpoint.method());
            throw new Exchange.HttpError(405, path + " takes " + endpoint.method() + ", not " + method);
        }
        boolean open = path.equals("/health") || path.equals("/metrics") || PLAYGROUND.containsKey(path);
        if (!open) authorize(exchange);
        boolean forEmbedder = path.equals("/v1/embeddings");
        boolean forLanguageModel = !open && !forEmbedder && !path.equals("/v1/models");
        if (forEmbedder && embedder == null) {
            throw new Exchange.HttpError(400, "the model " + modelName + " generates text and has no embeddings:"
                    + " /v1/embeddings needs a sentence encoder (jgpt train --objective simcse or contrastive-pairs)");
        }
        if (forLanguageModel && scheduler == null) {
            throw new Exchange.HttpError(400, "the model " + modelName + " is a sentence encoder: it answers"
                    + " /v1/embeddings, not " + path);
        }
        endpoint.action().answer(exchange);
    }

    private Fields fields(Exchange exchange) {
        long deadline = exchange.started() + options.readTimeout().toNanos();
        return new Fields(exchange.body(MAX_BODY_BYTES, deadline));
    }

    /** {@code Authorization: Bearer <key>}, compared in constant time, when the server has a key. */
    private void authorize(Exchange exchange) {
        if (options.apiKey() == null) return;
        String header = exchange.header("Authorization");
        byte[] expected = ("Bearer " + options.apiKey()).getBytes(StandardCharsets.UTF_8);
        if (header == null || !MessageDigest.isEqual(expected, header.getBytes(StandardCharsets.UTF_8))) {
            exchange.setHeader("WWW-Authenticate", "Bearer");
            throw new Exchange.HttpError(401, header == null ? "this server needs an API key: send Authorization: Bearer KEY"
                    : "the API key is not valid");
        }
    }

    /** CORS headers for an allowed origin, and the answers to a browser's preflight. */
    private void cors(Exchange exchange) {
        String origin = exchange.header("Origin");
        if (origin == null || options.corsOrigins().isEmpty()) return;
        boolean any = options.corsOrigins().contains("*");
        if (!any && !options.corsOrigins().contains(origin)) return;
        exchange.setHeader("Access-Control-Allow-Origin", any ? "*" : origin);
        if (!any) exchange.setHeader("Vary", "Origin");
        if (exchange.method().equals("OPTIONS")) {
            exchange.setHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
            String asked = exchange.header("Access-Control-Request-Headers");
            exchange.setHeader("Access-Control-Allow-Headers", asked != null ? asked : "Authorization, Content-Type");
            exchange.setHeader("Access-Control-Max-Age", "600");
        }
    }

    /** Common Log Format, plus the time taken: one line per request. */
    private void log(Exchange exchange, Throwable failure) {
        double seconds = (System.nanoTime() - exchange.started()) / 1e9;
        String path = exchange.path();
        metrics.request(ENDPOINTS.contains(path) ? path : "other", exchange.status(), seconds);
        PrintStream log = options.accessLog();
        if (log == null) return;
        String line = String.format(Locale.ROOT, "%s - - [%s] \"%s %s %s\" %d %d %.3fs%s", Request.getRemoteAddr(exchange.request),
                ZonedDateTime.now().format(LOG_TIME), exchange.method(), exchange.request.getHttpURI().getPathQuery(),
                exchange.request.getConnectionMetaData().getProtocol(), exchange.status(), exchange.bytesSent(), seconds,
                failure == null ? "" : " aborted");
        log.println(line);
    }

    private void playground(Exchange exchange) {
        String file = PLAYGROUND.get(exchange.path());
        try (InputStream in = Server.class.getResourceAsStream("playground/" + file)) {
            if (in == null) throw new IllegalStateException("the playground's " + file + " is missing from the jar");
            String type = file.endsWith(".html") ? "text/html" : file.endsWith(".css") ? "text/css" : "text/javascript";
            exchange.setHeader("Cache-Control", "no-cache");
            exchange.setHeader("Content-Security-Policy", "default-src 'self'");
            exchange.send(200, type + "; charset=utf-8", in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Map<String, Object> models() {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("id", modelName);
        model.put("object", "model");
        model.put("created", 0);
        model.put("owned_by", "jgpt");
        Map<String, Object> list = new LinkedHashMap<>();
        list.put("object", "list");
        list.put("data", List.of(model));
        return list;
    }

    private Map<String, Object> score(Fields request) {
        String text = request.string("text");
        boolean bos = request.bool("bos", false);
        request.rejectOthers();
        Scorer.TextScore score = completions.onModel(() -> completions.scorer().scoreText(tokenizer, text, bos));
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("token_ids", score.tokens());
        result.put("logprobs", score.logprobs());
        result.put("nll", score.nll());
        result.put("perplexity", score.perplexity());
        return result;
    }

    /** OpenAI's embeddings API: {@code input} a string or a list of them; unit vectors, as floats or base64. */
    private Map<String, Object> embeddings(Fields request) {
        List<String> inputs = request.strings("input", null);
        if (inputs == null) throw new IllegalArgumentException("'input' is required");
        if (inputs.isEmpty()) throw new IllegalArgumentException("'input' is an empty list");
        if (inputs.size() > MAX_INPUTS) {
            throw new IllegalArgumentException("'input' holds " + inputs.size() + " texts, more than " + MAX_INPUTS);
        }
        String format = request.has("encoding_format") ? request.string("encoding_format") : "float";
        if (!format.equals("float") && !format.equals("base64")) {
            throw new IllegalArgumentException("'encoding_format' must be float or base64, not " + format);
        }
        request.ignore("model", "user");
        request.rejectOthers();
        List<Embedder.Embedding> embeddings;
        try {
            if (!embedderLock.tryLock(options.readTimeout().toNanos() * 6, TimeUnit.NANOSECONDS)) {
                throw new Exchange.HttpError(503, "the server is busy embedding other texts; try again shortly");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        try {
            embeddings = embedder.embed(inputs);
        } finally {
            embedderLock.unlock();
        }
        List<Map<String, Object>> data = new ArrayList<>();
        long tokens = 0;
        for (int i = 0; i < embeddings.size(); i++) {
            float[] unit = unit(embeddings.get(i).vector());
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("object", "embedding");
            item.put("index", i);
            item.put("embedding", format.equals("base64") ? base64(unit) : shortestDecimals(unit));
            data.add(item);
            tokens += embeddings.get(i).tokens();
        }
        Map<String, Object> usage = new LinkedHashMap<>();
        usage.put("prompt_tokens", tokens);
        usage.put("total_tokens", tokens);
        Map<String, Object> response = new LinkedHashMap<>();
        response.put("object", "list");
        response.put("data", data);
        response.put("model", modelName);
        response.put("usage", usage);
        return response;
    }

    private static float[] unit(float[] v) {
        double norm = 0;
        for (float x : v) norm += (double) x * x;
        float scale = (float) (1 / Math.max(Math.sqrt(norm), 1e-12));
        float[] u = new float[v.length];
        for (int i = 0; i < v.length; i++) u[i] = v[i] * scale;
        return u;
    }

    /** Each float as the shortest decimal that reads back to it (a double holding it would print 17 digits). */
    private static double[] shortestDecimals(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = Double.parseDouble(Float.toString(v[i]));
        return d;
    }

    /** OpenAI's base64 form: the little-endian float32 bytes. */
    private static String base64(float[] v) {
        ByteBuffer bytes = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) bytes.putFloat(x);
        return Base64.getEncoder().encodeToString(bytes.array());
    }

    /** The prompt's tokens; with {@code "with_pieces": true} each with its text, as llama.cpp's server answers. */
    private Map<String, Object> tokenize(Fields request) {
        String content = request.string("content");
        boolean withPieces = request.bool("with_pieces", false);
        request.rejectOthers();
        int[] tokens = tokenizer.encode(content);
        if (!withPieces) return Map.of("tokens", tokens);
        List<Map<String, Object>> pieces = new ArrayList<>();
        for (int token : tokens) {
            Map<String, Object> piece = new LinkedHashMap<>();
            piece.put("id", token);
            piece.put("piece", tokenizer.decode(new int[] {token}));
            pieces.add(piece);
        }
        return Map.of("tokens", pieces);
    }

    private Map<String, Object> detokenize(Fields request) {
        int[] tokens = request.integers("tokens");
        request.rejectOthers();
        for (int token : tokens) {
            if (token < 0 || token >= tokenizer.vocabSize()) {
                throw new IllegalArgumentException("token " + token + " is outside the vocabulary [0, "
                        + tokenizer.vocabSize() + ")");
            }
        }
        return Map.of("content", tokenizer.decode(tokens));
    }
}
