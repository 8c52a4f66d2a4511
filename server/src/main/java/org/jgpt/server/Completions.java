package org.jgpt.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jgpt.generate.Batch;
import org.jgpt.generate.BatchScheduler;
import org.jgpt.generate.GenerationOptions;
import org.jgpt.generate.Generator;
import org.jgpt.generate.Scorer;
import org.jgpt.generate.TokenLogprob;
import org.jgpt.io.Json;
import org.jgpt.tokenizer.StreamingDecoder;
import org.jgpt.tokenizer.Tokenizer;

/**
 * {@code POST /v1/completions} and {@code POST /v1/chat/completions}, OpenAI's shapes, on the {@link BatchScheduler}:
 * each request's sequences join the running batch, and streamed text goes out as server-sent events from the
 * request's own thread, so that a slow reader never holds up the batch. Scoring (echoed prompts, {@code /v1/score})
 * runs on the scheduler's thread between steps.
 */
final class Completions {
    /** Most likely tokens a request may ask for per position; OpenAI allows 5 (20 for chat), vLLM 20. */
    private static final int MAX_LOGPROBS = 20;

    private final BatchScheduler scheduler;
    private final Scorer scorer;
    private final Tokenizer tokenizer;
    private final int context;
    private final String modelName;
    private final ChatTemplate template;
    private final Metrics metrics;
    private final ClientWatch clientWatch;
    private final AtomicLong ids = new AtomicLong();

    Completions(BatchScheduler scheduler, Scorer scorer, Tokenizer tokenizer, int context, String modelName,
                ChatTemplate template, Metrics metrics, ClientWatch clientWatch) {
        this.scheduler = scheduler;
        this.scorer = scorer;
        this.tokenizer = tokenizer;
        this.context = context;
        this.modelName = modelName;
        this.template = template;
        this.metrics = metrics;
        this.clientWatch = clientWatch;
    }

    /** A piece of one sequence's text, the tokens taken with it (when log-probabilities were asked for), or its end. */
    private record Piece(int sequence, String text, List<TokenLogprob> tokens, Generator.FinishReason finish) {}

    private static final Piece END = new Piece(-1, "", List.of(), null);

    /**
     * Hands what the batch makes to the request's thread, without blocking the scheduler: each text piece with the
     * tokens taken since the last one (those of a stop string come with the finish), and times the first text.
     */
    private final class Pieces implements Generator.Listener {
        final LinkedBlockingQueue<Piece> queue = new LinkedBlockingQueue<>();
        private final Map<Integer, List<TokenLogprob>> pending = new HashMap<>();
        private final long arrival;
        private final AtomicBoolean first = new AtomicBoolean(true);
        private final boolean keep;

        Pieces(long arrival, boolean keep) {
            this.arrival = arrival;
            this.keep = keep;
        }

        @Override
        public void onToken(int sequence, TokenLogprob logprob) {
            if (keep) pending.computeIfAbsent(sequence, s -> new ArrayList<>()).add(logprob);
        }

        @Override
        public void onText(int sequence, String text) {
            if (first.getAndSet(false)) metrics.firstToken((System.nanoTime() - arrival) / 1e9);
            if (keep) queue.add(new Piece(sequence, text, taken(sequence), null));
        }

        @Override
        public void onFinish(Generator.Completion completion) {
            if (keep) queue.add(new Piece(completion.sequence(), "", taken(completion.sequence()), completion.reason()));
        }

        private List<TokenLogprob> taken(int sequence) {
            List<TokenLogprob> tokens = pending.remove(sequence);
            return tokens == null ? List.of() : tokens;
        }
    }

    // ---- /v1/completions ----

    void complete(Exchange exchange, Fields request) {
        List<int[]> prompts = request.prompts("prompt", tokenizer::encode);
        if (prompts == null) throw new IllegalArgumentException("'prompt' is required");
        if (prompts.isEmpty()) throw new IllegalArgumentException("'prompt' is an empty list");
        request.ignore("model", "user");
        int maxTokens = request.integer("max_tokens", 16);
        if (maxTokens < 0) throw new IllegalArgumentException("'max_tokens' must be at least 0: " + maxTokens);
        boolean echo = request.bool("echo", false);
        int logprobs = request.integer("logprobs", -1);
        if (request.has("logprobs") && (logprobs < 0 || logprobs > MAX_LOGPROBS)) {
            throw new IllegalArgumentException("'logprobs' must be between 0 and " + MAX_LOGPROBS + ": " + logprobs);
        }
        if (maxTokens == 0 && !echo) throw new IllegalArgumentException("'max_tokens' may be 0 only with 'echo'");
        GenerationOptions options = sampling(request, Math.max(1, maxTokens), List.of());
        boolean stream = request.bool("stream", false);
        boolean includeUsage = includeUsage(request, stream);
        request.rejectOthers();
        if (stream && echo) throw new IllegalArgumentException("'echo' is not available with 'stream'");
        checkSequences(prompts.size(), options.samples());

        String id = "cmpl-" + ids.incrementAndGet();
        long created = Instant.now().getEpochSecond();
        if (stream) {
            streamCompletions(exchange, prompts, options, logprobs, id, created, includeUsage);
            return;
        }
        List<Generator.Completion> completions = maxTokens == 0 ? promptsOnly(prompts, options.samples())
                : generate(exchange, prompts, options, logprobs);
        List<List<TokenLogprob>> promptLogprobs = new ArrayList<>();
        if (echo && logprobs >= 0) {
            for (int p = 0; p < prompts.size(); p++) {
                int[] fed = completions.get(p * options.samples()).promptTokens();
                promptLogprobs.add(fed.length < 2 ? List.of() : onModel(() -> scorer.tokenLogprobs(fed, logprobs)));
            }
        }
        List<Map<String, Object>> choices = new ArrayList<>();
        for (Generator.Completion c : completions) {
            String text = echo ? tokenizer.decode(c.promptTokens()) + c.text() : c.text();
            Map<String, Object> choice = textChoice(c.sequence(), text, finishReason(c.reason()));
            if (logprobs >= 0) {
                TextLogprobs built = new TextLogprobs();
                if (echo) {
                    int[] prompt = c.promptTokens();
                    for (int i = 0; i < prompt.length; i++) {
                        built.add(prompt[i], i == 0 ? null : promptLogprobs.get(c.prompt()).get(i - 1));
                    }
                }
                for (TokenLogprob lp : c.logprobs()) built.add(lp.token(), lp);
                choice.put("logprobs", built.json());
            }
            choices.add(choice);
        }
        Map<String, Object> response = object(id, "text_completion", created, choices);
        response.put("usage", usage(completions));
        exchange.sendJson(200, response);
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

    private void streamCompletions(Exchange exchange, List<int[]> prompts, GenerationOptions options, int logprobs,
                                   String id, long created, boolean includeUsage) {
        Map<Integer, TextLogprobs> built = new HashMap<>();
        stream(exchange, prompts, options, logprobs, includeUsage, id, created, "text_completion", List.of(), piece -> {
            Map<String, Object> choice = textChoice(piece.sequence(), piece.text(),
                    piece.finish() == null ? null : finishReason(piece.finish()));
            if (logprobs >= 0) {
                TextLogprobs tokens = built.computeIfAbsent(piece.sequence(), s -> new TextLogprobs());
                for (TokenLogprob lp : piece.tokens()) tokens.add(lp.token(), lp);
                choice.put("logprobs", tokens.takeJson());
            }
            return choice;
        });
    }

    // ---- /v1/chat/completions ----

    void chat(Exchange exchange, Fields request) {
        List<Map.Entry<String, String>> messages = messages(request.list("messages"));
        request.ignore("model", "user");
        int[] prompt = tokenizer.encode(template.render(messages));
        int roomLeft = Math.max(1, context + 1 - prompt.length);
        int maxTokens = request.has("max_completion_tokens") ? request.integer("max_completion_tokens", 0)
                : request.integer("max_tokens", roomLeft);
        if (maxTokens < 1) throw new IllegalArgumentException("'max_tokens' must be at least 1: " + maxTokens);
        boolean logprobs = request.bool("logprobs", false);
        int top = request.integer("top_logprobs", 0);
        if (request.has("top_logprobs") && !logprobs) throw new IllegalArgumentException("'top_logprobs' needs 'logprobs': true");
        if (top < 0 || top > MAX_LOGPROBS) {
            throw new IllegalArgumentException("'top_logprobs' must be between 0 and " + MAX_LOGPROBS + ": " + top);
        }
        GenerationOptions options = sampling(request, maxTokens, template.stop());
        boolean stream = request.bool("stream", false);
        boolean includeUsage = includeUsage(request, stream);
        request.rejectOthers();
        checkSequences(1, options.samples());

        String id = "chatcmpl-" + ids.incrementAndGet();
        long created = Instant.now().getEpochSecond();
        int k = logprobs ? top : -1;
        if (stream) {
            List<Map<String, Object>> roles = new ArrayList<>();
            for (int s = 0; s < options.samples(); s++) {
                roles.add(chatChoice(s, "delta", message(true, ""), null));
            }
            stream(exchange, List.of(prompt), options, k, includeUsage, id, created, "chat.completion.chunk", roles,
                    piece -> {
                        Map<String, Object> delta = piece.finish() == null ? message(false, piece.text()) : Map.of();
                        Map<String, Object> choice = chatChoice(piece.sequence(), "delta", delta,
                                piece.finish() == null ? null : finishReason(piece.finish()));
                        if (logprobs) choice.put("logprobs", Map.of("content", chatLogprobs(piece.tokens())));
                        return choice;
                    });
            return;
        }
        List<Generator.Completion> completions = generate(exchange, List.of(prompt), options, k);
        List<Map<String, Object>> choices = new ArrayList<>();
        for (Generator.Completion c : completions) {
            Map<String, Object> choice = chatChoice(c.sequence(), "message", message(true, c.text()),
                    finishReason(c.reason()));
            if (logprobs) choice.put("logprobs", Map.of("content", chatLogprobs(c.logprobs())));
            choices.add(choice);
        }
        Map<String, Object> response = object(id, "chat.completion", created, choices);
        response.put("usage", usage(completions));
        exchange.sendJson(200, response);
    }

    /** The messages as (role, text); a content may be a string or a list of text parts, as OpenAI's. */
    private static List<Map.Entry<String, String>> messages(List<?> list) {
        if (list == null) throw new IllegalArgumentException("'messages' is required");
        if (list.isEmpty()) throw new IllegalArgumentException("'messages' is an empty list");
        List<Map.Entry<String, String>> messages = new ArrayList<>();
        for (Object item : list) {
            if (!(item instanceof Map<?, ?> message) || !(message.get("role") instanceof String role)) {
                throw new IllegalArgumentException("each message must be an object with a 'role' and a 'content'");
            }
            Object content = message.get("content");
            StringBuilder text = new StringBuilder();
            if (content instanceof String string) {
                text.append(string);
            } else if (content instanceof List<?> parts) {
                for (Object part : parts) {
                    if (!(part instanceof Map<?, ?> p) || !"text".equals(p.get("type")) || !(p.get("text") instanceof String t)) {
                        throw new IllegalArgumentException("a message's content parts must be {\"type\": \"text\", \"text\": ...}");
                    }
                    text.append(t);
                }
            } else if (content != null) {
                throw new IllegalArgumentException("a message's 'content' must be a string or a list of text parts");
            }
            messages.add(Map.entry(role, text.toString()));
        }
        return messages;
    }

    private static Map<String, Object> message(boolean withRole, String content) {
        Map<String, Object> message = new LinkedHashMap<>();
        if (withRole) message.put("role", "assistant");
        message.put("content", content);
        return message;
    }

    private static Map<String, Object> chatChoice(int index, String key, Map<String, Object> message, String finishReason) {
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("index", index);
        choice.put(key, message);
        choice.put("logprobs", null);
        choice.put("finish_reason", finishReason);
        return choice;
    }

    /** OpenAI's chat logprobs: each token's text, log-probability, UTF-8 bytes and most likely alternatives. */
    private List<Map<String, Object>> chatLogprobs(List<TokenLogprob> logprobs) {
        List<Map<String, Object>> content = new ArrayList<>();
        for (TokenLogprob lp : logprobs) {
            Map<String, Object> entry = tokenEntry(lp.token(), lp.logprob());
            List<Map<String, Object>> top = new ArrayList<>();
            for (int k = 0; k < lp.topTokens().length; k++) top.add(tokenEntry(lp.topTokens()[k], lp.topLogprobs()[k]));
            entry.put("top_logprobs", top);
            content.add(entry);
        }
        return content;
    }

    private Map<String, Object> tokenEntry(int token, double logprob) {
        byte[] bytes = tokenizer.tokenBytes(token);
        List<Integer> unsigned = new ArrayList<>(bytes.length);
        for (byte b : bytes) unsigned.add(b & 0xff);
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("token", tokenizer.decode(new int[] {token}));
        entry.put("logprob", logprob);
        entry.put("bytes", unsigned);
        return entry;
    }

    // ---- shared ----

    /** The sampling fields both endpoints take; {@code extraStop} (the chat template's) joins the request's own. */
    private static GenerationOptions sampling(Fields request, int maxTokens, List<String> extraStop) {
        List<String> stop = new ArrayList<>(request.strings("stop", List.of()));
        for (String s : extraStop) if (!stop.contains(s)) stop.add(s);
        return new GenerationOptions(
                maxTokens,
                request.number("temperature", 1f),
                request.integer("top_k", 0),
                request.number("top_p", 1f),
                request.number("repetition_penalty", 1f),
                stop,
                request.has("seed") ? request.longInteger("seed") : GenerationOptions.defaults().seed(),
                request.integer("n", 1),
                request.bool("truncate", false));
    }

    /** {@code "stream_options": {"include_usage": true}} adds a last event with the usage, as OpenAI's. */
    private static boolean includeUsage(Fields request, boolean stream) {
        Map<?, ?> options = request.object("stream_options");
        if (options == null) return false;
        if (!stream) throw new IllegalArgumentException("'stream_options' needs 'stream': true");
        for (Object key : options.keySet()) {
            if (!"include_usage".equals(key)) throw new IllegalArgumentException("unknown field 'stream_options." + key + "'");
        }
        Object include = options.get("include_usage");
        if (include != null && !(include instanceof Boolean)) {
            throw new IllegalArgumentException("'stream_options.include_usage' must be true or false");
        }
        return Boolean.TRUE.equals(include);
    }

    private void checkSequences(int prompts, int samples) {
        int max = scheduler.limits().maxSequences();
        if ((long) prompts * samples > max) {
            throw new IllegalArgumentException(prompts + " prompts × n = " + samples + " asks for more than " + max
                    + " completions at once");
        }
    }

    /** Generates on the batch and waits; a client that closes its connection meanwhile cancels its sequences at once. */
    private List<Generator.Completion> generate(Exchange exchange, List<int[]> prompts, GenerationOptions options,
                                                int logprobs) {
        Batch.Request request = scheduler.submit(prompts, options, logprobs, new Pieces(exchange.started(), false));
        exchange.request.addFailureListener(failure -> scheduler.cancel(request));
        ClientWatch.Watching watching = clientWatch.watch(exchange, () -> scheduler.cancel(request));
        try {
            List<Generator.Completion> completions = request.result().get();
            metrics.tokens(request.promptTokens(), completions.stream().mapToLong(c -> c.tokens().length).sum());
            return completions;
        } catch (CancellationException e) {
            throw new UncheckedIOException(new IOException("the client went away"));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException cause) throw cause;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            scheduler.cancel(request);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            watching.close();
        }
    }

    /** Turns a piece into a choice of a streamed chunk. */
    private interface ChunkChoice {
        Map<String, Object> of(Piece piece);
    }

    /**
     * Streams a generation as server-sent events: {@code opening} choices first (chat's role), then a chunk per
     * piece, the usage if asked for, and {@code [DONE]}. Errors found before the first byte (a prompt too long, a
     * full queue) still get their own status; a client that goes away cancels its sequences.
     */
    private void stream(Exchange exchange, List<int[]> prompts, GenerationOptions options, int logprobs,
                        boolean includeUsage, String id, long created, String object, List<Map<String, Object>> opening,
                        ChunkChoice chunkChoice) {
        Pieces pieces = new Pieces(exchange.started(), true);
        Batch.Request request = scheduler.submit(prompts, options, logprobs, pieces);
        exchange.request.addFailureListener(failure -> scheduler.cancel(request));
        request.result().whenComplete((completions, failure) -> pieces.queue.add(END));
        try {
            exchange.startEvents();
            for (Map<String, Object> choice : opening) exchange.event(Json.write(object(id, object, created, List.of(choice))));
            long generated = 0;
            for (Piece piece = pieces.queue.take(); piece != END; piece = pieces.queue.take()) {
                generated += piece.tokens().size();
                exchange.event(Json.write(object(id, object, created, List.of(chunkChoice.of(piece)))));
            }
            if (request.result().isCompletedExceptionally()) {
                try {
                    request.result().join();
                } catch (RuntimeException e) {
                    Throwable cause = e.getCause() == null ? e : e.getCause();
                    exchange.event(Json.write(Map.of("error", Map.of("message", String.valueOf(cause.getMessage()),
                            "type", "server_error"))));
                    return;
                }
            }
            List<Generator.Completion> completions = request.result().join();
            metrics.tokens(request.promptTokens(), completions.stream().mapToLong(c -> c.tokens().length).sum());
            if (includeUsage) {
                Map<String, Object> last = object(id, object, created, List.of());
                last.put("usage", usage(completions));
                exchange.event(Json.write(last));
            }
            exchange.event("[DONE]");
            exchange.endEvents();
        } catch (UncheckedIOException e) {
            scheduler.cancel(request); // the client went away: free its places in the batch now
            throw e;
        } catch (InterruptedException e) {
            scheduler.cancel(request);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    Scorer scorer() {
        return scorer;
    }

    /** Runs {@code work} on the model's thread, between steps, and waits for it. */
    <T> T onModel(Callable<T> work) {
        Future<T> result = scheduler.run(work);
        try {
            return result.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException cause) throw cause;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            result.cancel(false);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private Map<String, Object> object(String id, String object, long created, List<Map<String, Object>> choices) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("id", id);
        json.put("object", object);
        json.put("created", created);
        json.put("model", modelName);
        json.put("choices", choices);
        return json;
    }

    private static Map<String, Object> textChoice(int index, String text, String finishReason) {
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("text", text);
        choice.put("index", index);
        choice.put("logprobs", null);
        choice.put("finish_reason", finishReason);
        return choice;
    }

    private static Map<String, Object> usage(List<Generator.Completion> completions) {
        long promptTokens = 0, completionTokens = 0;
        for (Generator.Completion c : completions) {
            if (c.sample() == 0) promptTokens += c.promptTokens().length;
            completionTokens += c.tokens().length;
        }
        Map<String, Object> usage = new LinkedHashMap<>();
        usage.put("prompt_tokens", promptTokens);
        usage.put("completion_tokens", completionTokens);
        usage.put("total_tokens", promptTokens + completionTokens);
        return usage;
    }

    /** OpenAI's names: "stop" for a stop string or the end of text, "length" for max_tokens. */
    private static String finishReason(Generator.FinishReason reason) {
        return reason == Generator.FinishReason.LENGTH ? "length" : "stop";
    }

    /**
     * The completions API's logprobs object, built token by token: each token's text, log-probability, most likely
     * alternatives (text to log-probability) and character offset in the choice's text. A null log-probability
     * stands for the first echoed prompt token, which nothing predicts. Streaming takes what was added since the
     * last chunk, the offsets still counted from the start of the text.
     */
    private final class TextLogprobs {
        private final StreamingDecoder decoder = tokenizer.newStreamingDecoder();
        private long offset;
        private List<String> tokens = new ArrayList<>();
        private List<Object> tokenLogprobs = new ArrayList<>();
        private List<Object> topLogprobs = new ArrayList<>();
        private List<Long> textOffsets = new ArrayList<>();

        void add(int token, TokenLogprob lp) {
            tokens.add(tokenizer.decode(new int[] {token}));
            textOffsets.add(offset);
            String piece = decoder.push(token);
            offset += piece.codePointCount(0, piece.length());
            tokenLogprobs.add(lp == null ? null : lp.logprob());
            if (lp == null) {
                topLogprobs.add(null);
                return;
            }
            Map<String, Object> top = new LinkedHashMap<>();
            for (int k = 0; k < lp.topTokens().length; k++) {
                top.putIfAbsent(tokenizer.decode(new int[] {lp.topTokens()[k]}), lp.topLogprobs()[k]);
            }
            topLogprobs.add(top);
        }

        Map<String, Object> json() {
            Map<String, Object> logprobs = new LinkedHashMap<>();
            logprobs.put("tokens", tokens);
            logprobs.put("token_logprobs", tokenLogprobs);
            logprobs.put("top_logprobs", topLogprobs);
            logprobs.put("text_offset", textOffsets);
            return logprobs;
        }

        Map<String, Object> takeJson() {
            Map<String, Object> json = json();
            tokens = new ArrayList<>();
            tokenLogprobs = new ArrayList<>();
            topLogprobs = new ArrayList<>();
            textOffsets = new ArrayList<>();
            return json;
        }
    }
}
