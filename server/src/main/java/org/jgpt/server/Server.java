package org.jgpt.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.jgpt.generate.GenerationOptions;
import org.jgpt.generate.Generator;
import org.jgpt.generate.Scorer;
import org.jgpt.generate.TokenLogprob;
import org.jgpt.io.Json;
import org.jgpt.model.GPT2Model;
import org.jgpt.tokenizer.StreamingDecoder;
import org.jgpt.tokenizer.Tokenizer;

/**
 * A model over HTTP, on the JDK's own server. JSON in and out:
 * <ul>
 *   <li>{@code POST /v1/completions}: OpenAI's completions API (prompt as text or token ids, max_tokens, temperature,
 *       top_p, n, stop, seed, stream, logprobs, echo), plus top_k, repetition_penalty and truncate. With
 *       {@code "stream": true} the text arrives as server-sent events, one {@code data:} line per piece, then
 *       {@code data: [DONE]}. {@code logprobs} and {@code echo} are what lm-evaluation-harness's completions model
 *       scores with: {@code "echo": true, "max_tokens": 0} scores a prompt alone. Log-probabilities are the model's
 *       own distribution, before temperature, penalty or truncation.</li>
 *   <li>{@code POST /v1/score}: {@code {"text", "bos"}} gives what {@code jgpt score} prints.</li>
 *   <li>{@code POST /tokenize} ({@code {"content"}}) and {@code POST /detokenize} ({@code {"tokens"}}).</li>
 *   <li>{@code GET /health} and {@code GET /v1/models}.</li>
 * </ul>
 * Or, for a sentence encoder ({@link #startEmbeddings}), {@code POST /v1/embeddings}: OpenAI's embeddings API, unit
 * vectors as OpenAI's are, as JSON numbers or base64 float32; and the health and models endpoints.
 * Requests that use the model run one at a time, in arrival order. Bad requests get status 400 and OpenAI's error
 * shape, {@code {"error": {"message", "type"}}}.
 */
public final class Server implements AutoCloseable {
    private static final int MAX_BODY_BYTES = 8 << 20;
    private static final int HANDLER_THREADS = 4;
    /** Completions one request may ask for (prompts × n): each holds a KV cache while the batch decodes. */
    private static final int MAX_SEQUENCES = 64;
    /** Most likely tokens a request may ask for per position ({@code logprobs}); OpenAI allows 5, vLLM 20. */
    private static final int MAX_LOGPROBS = 20;
    /** Texts one embeddings request may hold, as OpenAI's limit. */
    private static final int MAX_INPUTS = 2048;

    private final HttpServer http;
    private final ExecutorService handlers;
    // the language model's parts, null when serving a sentence encoder
    private final Tokenizer tokenizer;
    private final Generator generator;
    private final Scorer scorer;
    private final Embedder embedder; // a sentence encoder, or null when serving a language model
    private final String modelName;
    private final ReentrantLock modelLock = new ReentrantLock(true);
    private final AtomicLong completionIds = new AtomicLong();

    private Server(HttpServer http, GPT2Model model, Tokenizer tokenizer, Embedder embedder, String modelName) {
        this.http = http;
        this.tokenizer = tokenizer;
        this.generator = model == null ? null : new Generator(model, tokenizer);
        this.scorer = model == null ? null : new Scorer(model);
        this.embedder = embedder;
        this.modelName = modelName;
        this.handlers = Executors.newFixedThreadPool(HANDLER_THREADS, Thread.ofPlatform().daemon().name("jgpt-http-", 1).factory());
        http.setExecutor(handlers);
        http.createContext("/", this::handle);
    }

    /** Starts serving {@code model} on {@code address} (port 0 picks a free port; see {@link #port()}). */
    public static Server start(GPT2Model model, Tokenizer tokenizer, String modelName, InetSocketAddress address)
            throws IOException {
        Server server = new Server(HttpServer.create(address, 0), model, tokenizer, null, modelName);
        server.http.start();
        return server;
    }

    /** Starts serving a sentence encoder's {@code POST /v1/embeddings} on {@code address}. */
    public static Server startEmbeddings(Embedder embedder, String modelName, InetSocketAddress address) throws IOException {
        Server server = new Server(HttpServer.create(address, 0), null, null, embedder, modelName);
        server.http.start();
        return server;
    }

    public int port() {
        return http.getAddress().getPort();
    }

    @Override
    public void close() {
        http.stop(0);
        handlers.shutdownNow();
    }

    /** A request that cannot be served, with the status to answer. */
    private static final class HttpError extends RuntimeException {
        final int status;

        HttpError(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private void handle(HttpExchange exchange) {
        try (exchange) {
            try {
                route(exchange);
            } catch (HttpError e) {
                sendError(exchange, e.status, e.getMessage());
            } catch (IllegalArgumentException e) {
                sendError(exchange, 400, e.getMessage());
            } catch (UncheckedIOException e) {
                // The client went away mid-response; nothing is left to tell it.
            } catch (RuntimeException e) {
                sendError(exchange, 500, "internal error: " + e);
            }
        } catch (IOException e) {
            // The client went away before the answer was written.
        }
    }

    /** What answers one path, and the one HTTP method it takes. */
    private record Endpoint(String method, Action action) {}

    private interface Action {
        void answer(HttpExchange exchange) throws IOException;
    }

    private void route(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        Endpoint endpoint = switch (path) {
            case "/health" -> new Endpoint("GET", e -> sendJson(e, 200, Map.of("status", "ok")));
            case "/v1/models" -> new Endpoint("GET", e -> sendJson(e, 200, models()));
            case "/v1/completions" -> new Endpoint("POST", e -> complete(e, new Fields(readBody(e))));
            case "/v1/score" -> new Endpoint("POST", e -> sendJson(e, 200, score(new Fields(readBody(e)))));
            case "/tokenize" -> new Endpoint("POST", e -> sendJson(e, 200, tokenize(new Fields(readBody(e)))));
            case "/detokenize" -> new Endpoint("POST", e -> sendJson(e, 200, detokenize(new Fields(readBody(e)))));
            case "/v1/embeddings" -> new Endpoint("POST", e -> sendJson(e, 200, embeddings(new Fields(readBody(e)))));
            default -> throw new HttpError(404, "no such endpoint: " + path);
        };
        String method = exchange.getRequestMethod();
        if (!method.equals(endpoint.method())) {
            exchange.getResponseHeaders().set("Allow", endpoint.method());
            throw new HttpError(405, path + " takes " + endpoint.method() + ", not " + method);
        }
        boolean forEmbedder = path.equals("/v1/embeddings");
        boolean forLanguageModel = !forEmbedder && !path.equals("/health") && !path.equals("/v1/models");
        if (forEmbedder && embedder == null) {
            throw new HttpError(400, "the model " + modelName + " generates text and has no embeddings: /v1/embeddings"
                    + " needs a sentence encoder (jgpt train --objective simcse or contrastive-pairs)");
        }
        if (forLanguageModel && generator == null) {
            throw new HttpError(400, "the model " + modelName + " is a sentence encoder: it answers /v1/embeddings, not " + path);
        }
        endpoint.action().answer(exchange);
    }

    private Map<String, Object> models() {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("id", modelName);
        model.put("object", "model");
        model.put("owned_by", "jgpt");
        Map<String, Object> list = new LinkedHashMap<>();
        list.put("object", "list");
        list.put("data", List.of(model));
        return list;
    }

    private void complete(HttpExchange exchange, Fields request) throws IOException {
        List<int[]> prompts = request.prompts("prompt", tokenizer::encode);
        if (prompts == null) throw new IllegalArgumentException("'prompt' is required");
        if (prompts.isEmpty()) throw new IllegalArgumentException("'prompt' is an empty list");
        request.ignore("model", "user");
        int maxTokens = request.integer("max_tokens", 16);
        boolean echo = request.bool("echo", false);
        int logprobs = request.integer("logprobs", -1);
        if (request.has("logprobs") && (logprobs < 0 || logprobs > MAX_LOGPROBS)) {
            throw new IllegalArgumentException("'logprobs' must be between 0 and " + MAX_LOGPROBS + ": " + logprobs);
        }
        if (maxTokens == 0 && !echo) throw new IllegalArgumentException("'max_tokens' may be 0 only with 'echo'");
        GenerationOptions options = new GenerationOptions(
                Math.max(1, maxTokens),
                request.number("temperature", 1f),
                request.integer("top_k", 0),
                request.number("top_p", 1f),
                request.number("repetition_penalty", 1f),
                request.strings("stop", List.of()),
                request.has("seed") ? request.longInteger("seed") : GenerationOptions.defaults().seed(),
                request.integer("n", 1),
                request.bool("truncate", false));
        boolean stream = request.bool("stream", false);
        request.rejectOthers();
        if (stream && (echo || logprobs >= 0)) {
            throw new IllegalArgumentException("'echo' and 'logprobs' are not available with 'stream'");
        }
        if ((long) prompts.size() * options.samples() > MAX_SEQUENCES) {
            throw new IllegalArgumentException(prompts.size() + " prompts × n = " + options.samples() + " asks for more than "
                    + MAX_SEQUENCES + " completions at once");
        }

        String id = "cmpl-" + completionIds.incrementAndGet();
        long created = Instant.now().getEpochSecond();
        List<Generator.Completion> completions;
        List<List<TokenLogprob>> promptLogprobs = new ArrayList<>();
        modelLock.lock();
        try {
            if (stream) {
                EventStream events = new EventStream(exchange, id, created);
                generator.generateTokens(prompts, options, -1, events);
                events.done();
                return;
            }
            completions = maxTokens == 0 ? promptsOnly(prompts, options.samples())
                    : generator.generateTokens(prompts, options, logprobs, (sequence, text) -> {});
            if (echo && logprobs >= 0) {
                for (int p = 0; p < prompts.size(); p++) {
                    int[] fed = completions.get(p * options.samples()).promptTokens();
                    promptLogprobs.add(fed.length < 2 ? List.of() : scorer.tokenLogprobs(fed, logprobs));
                }
            }
        } finally {
            modelLock.unlock();
        }
        List<Map<String, Object>> choices = new ArrayList<>();
        long promptTokens = 0, completionTokens = 0;
        for (Generator.Completion c : completions) {
            String text = echo ? tokenizer.decode(c.promptTokens()) + c.text() : c.text();
            Map<String, Object> choice = choice(c.sequence(), text, finishReason(c.reason()));
            if (logprobs >= 0) choice.put("logprobs", logprobs(c, echo ? promptLogprobs.get(c.prompt()) : null));
            choices.add(choice);
            if (c.sample() == 0) promptTokens += c.promptTokens().length;
            completionTokens += c.tokens().length;
        }
        Map<String, Object> response = completionObject(id, created, choices);
        Map<String, Object> usage = new LinkedHashMap<>();
        usage.put("prompt_tokens", promptTokens);
        usage.put("completion_tokens", completionTokens);
        usage.put("total_tokens", promptTokens + completionTokens);
        response.put("usage", usage);
        sendJson(exchange, 200, response);
    }

    /** Completions of no new tokens, for {@code "max_tokens": 0} with {@code "echo"}: the prompts alone. */
    private List<Generator.Completion> promptsOnly(List<int[]> prompts, int samples) {
        List<Generator.Completion> completions = new ArrayList<>();
        for (int p = 0; p < prompts.size(); p++) {
            int[] fed = prompts.get(p).length == 0 ? new int[] {tokenizer.endOfText()} : prompts.get(p);
            for (int s = 0; s < samples; s++) {
                completions.add(new Generator.Completion(completions.size(), p, s, fed, new int[0], "",
                        Generator.FinishReason.LENGTH, List.of()));
            }
        }
        return completions;
    }

    /**
     * OpenAI's logprobs object for a choice: each token's text, log-probability, most likely alternatives (text to
     * log-probability) and character offset in the choice's text. With {@code prompt} (echo) the prompt's tokens come
     * first, the very first with null log-probability and alternatives, as it is not predicted.
     */
    private Map<String, Object> logprobs(Generator.Completion completion, List<TokenLogprob> prompt) {
        List<String> tokens = new ArrayList<>();
        List<Object> tokenLogprobs = new ArrayList<>();
        List<Object> topLogprobs = new ArrayList<>();
        List<Long> textOffsets = new ArrayList<>();
        StreamingDecoder decoder = tokenizer.newStreamingDecoder();
        long offset = 0;
        List<Integer> ids = new ArrayList<>();
        List<TokenLogprob> scored = new ArrayList<>();
        if (prompt != null) {
            for (int token : completion.promptTokens()) ids.add(token);
            scored.add(null);
            scored.addAll(prompt);
        }
        for (int token : completion.tokens()) ids.add(token);
        scored.addAll(completion.logprobs());
        for (int i = 0; i < ids.size(); i++) {
            int token = ids.get(i);
            tokens.add(tokenizer.decode(new int[] {token}));
            textOffsets.add(offset);
            String piece = decoder.push(token);
            offset += piece.codePointCount(0, piece.length());
            TokenLogprob lp = scored.get(i);
            tokenLogprobs.add(lp == null ? null : lp.logprob());
            if (lp == null) {
                topLogprobs.add(null);
            } else {
                Map<String, Object> top = new LinkedHashMap<>();
                for (int k = 0; k < lp.topTokens().length; k++) {
                    top.putIfAbsent(tokenizer.decode(new int[] {lp.topTokens()[k]}), lp.topLogprobs()[k]);
                }
                topLogprobs.add(top);
            }
        }
        Map<String, Object> logprobs = new LinkedHashMap<>();
        logprobs.put("tokens", tokens);
        logprobs.put("token_logprobs", tokenLogprobs);
        logprobs.put("top_logprobs", topLogprobs);
        logprobs.put("text_offset", textOffsets);
        return logprobs;
    }

    private Map<String, Object> completionObject(String id, long created, List<Map<String, Object>> choices) {
        Map<String, Object> object = new LinkedHashMap<>();
        object.put("id", id);
        object.put("object", "text_completion");
        object.put("created", created);
        object.put("model", modelName);
        object.put("choices", choices);
        return object;
    }

    private static Map<String, Object> choice(int index, String text, String finishReason) {
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("text", text);
        choice.put("index", index);
        choice.put("logprobs", null);
        choice.put("finish_reason", finishReason);
        return choice;
    }

    /** OpenAI's names: "stop" for a stop string or the end of text, "length" for max_tokens. */
    private static String finishReason(Generator.FinishReason reason) {
        return reason == Generator.FinishReason.LENGTH ? "length" : "stop";
    }

    /**
     * Server-sent events for one streamed completion. The status line goes out with the first event, so that a request
     * the generator refuses before making any text (a prompt too long) still gets a plain 400.
     */
    private final class EventStream implements Generator.Listener {
        private final HttpExchange exchange;
        private final String id;
        private final long created;
        private OutputStream body;

        EventStream(HttpExchange exchange, String id, long created) {
            this.exchange = exchange;
            this.id = id;
            this.created = created;
        }

        @Override
        public void onText(int sequence, String text) {
            send(Json.write(completionObject(id, created, List.of(choice(sequence, text, null)))));
        }

        @Override
        public void onFinish(Generator.Completion completion) {
            send(Json.write(completionObject(id, created,
                    List.of(choice(completion.sequence(), "", finishReason(completion.reason()))))));
        }

        void done() {
            send("[DONE]");
        }

        private void send(String data) {
            try {
                if (body == null) {
                    exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
                    exchange.getResponseHeaders().set("Cache-Control", "no-cache");
                    exchange.sendResponseHeaders(200, 0);
                    body = exchange.getResponseBody();
                }
                body.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
                body.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e); // ends the generation: nobody is listening
            }
        }
    }

    private Map<String, Object> score(Fields request) {
        String text = request.string("text");
        boolean bos = request.bool("bos", false);
        request.rejectOthers();
        Scorer.TextScore score;
        modelLock.lock();
        try {
            score = scorer.scoreText(tokenizer, text, bos);
        } finally {
            modelLock.unlock();
        }
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
        modelLock.lock();
        try {
            embeddings = embedder.embed(inputs);
        } finally {
            modelLock.unlock();
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

    private Map<String, Object> tokenize(Fields request) {
        String content = request.string("content");
        request.rejectOthers();
        return Map.of("tokens", tokenizer.encode(content));
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

    private static String readBody(HttpExchange exchange) throws IOException {
        byte[] bytes = exchange.getRequestBody().readNBytes(MAX_BODY_BYTES + 1);
        if (bytes.length > MAX_BODY_BYTES) throw new HttpError(413, "the request body exceeds " + MAX_BODY_BYTES + " bytes");
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("the request body is not valid UTF-8");
        }
    }

    private static void sendError(HttpExchange exchange, int status, String message) throws IOException {
        String type = status >= 500 ? "server_error" : status == 404 ? "not_found_error" : "invalid_request_error";
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("message", message);
        error.put("type", type);
        sendJson(exchange, status, Map.of("error", error));
    }

    private static void sendJson(HttpExchange exchange, int status, Object value) throws IOException {
        byte[] bytes = (Json.write(value) + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }
}
