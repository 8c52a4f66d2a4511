package org.jgpt.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import org.jgpt.generate.Generator.Completion;
import org.jgpt.generate.Generator.Listener;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.KVCache;
import org.jgpt.tokenizer.Tokenizer;

/**
 * The running batch of continuous batching (iteration-level scheduling, as in Orca and vLLM): requests join between
 * steps and each of their sequences leaves as soon as it is done. A step is one forward pass of the model over the
 * batch: one token for every sequence that is decoding, and the next chunk of the prompts still being read
 * (prefilled), so that a long prompt delays the running sequences by at most a chunk's worth of work per step.
 *
 * <p>A prompt's chunks are cut at the same places whatever else is in the batch, and each row of a forward pass is
 * computed alone (see {@code Matmul}), so with F32 weights a seeded request decodes the same text alone or in a
 * crowd. A prompt is prefilled once, into its first sample's cache, which its other samples then copy. Not
 * thread-safe: one thread joins, steps and removes.
 */
public final class Batch {
    /** Prompt tokens fed per step at most (a single chunk), and the length of a long prompt's chunks. */
    public static final int DEFAULT_PREFILL_CHUNK = 256;

    private final GPT2Model model;
    private final Tokenizer tokenizer;
    private final int prefillChunk;
    private List<Sequence> decoding = new ArrayList<>();
    private final List<Prompt> prefilling = new ArrayList<>();
    private int sequences;
    private float[] logits = new float[0];

    /** One prompt being prefilled into its first sample's cache; its samples start decoding once it is read. */
    private static final class Prompt {
        final Request request;
        final int[] tokens;
        final List<Sequence> samples = new ArrayList<>();
        int fed;

        Prompt(Request request, int[] tokens) {
            this.request = request;
            this.tokens = tokens;
        }

        Sequence first() {
            return samples.getFirst();
        }
    }

    /**
     * A generation request, checked and ready to join a batch: {@code options.samples()} samples of each prompt.
     * Its {@link #result} completes, on the thread that steps the batch, when its last sequence is done.
     */
    public static final class Request {
        private final List<Sequence> sequences = new ArrayList<>();
        private final List<Prompt> prompts = new ArrayList<>();
        private final CompletableFuture<List<Completion>> result = new CompletableFuture<>();
        private int unfinished;

        /** Sequences it will decode (prompts × samples). */
        public int sequences() {
            return sequences.size();
        }

        /** Prompt tokens it feeds (after truncation, an empty prompt counting as its {@code <|endoftext|>}). */
        public int promptTokens() {
            return prompts.stream().mapToInt(p -> p.tokens.length).sum();
        }

        /** The completions, in order of sequence index; exceptional if the request failed or was removed. */
        public CompletableFuture<List<Completion>> result() {
            return result;
        }
    }

    public Batch(GPT2Model model, Tokenizer tokenizer) {
        this(model, tokenizer, DEFAULT_PREFILL_CHUNK);
    }

    public Batch(GPT2Model model, Tokenizer tokenizer, int prefillChunk) {
        if (prefillChunk < 1) throw new IllegalArgumentException("prefill chunk must be at least 1: " + prefillChunk);
        this.model = model;
        this.tokenizer = tokenizer;
        this.prefillChunk = prefillChunk;
    }

    /**
     * Checks a request and prepares its sequences, without joining: an empty prompt starts from
     * {@code <|endoftext|>}, a token outside the vocabulary or a prompt too long for the context is an error (unless
     * {@code options.truncate()}). With {@code logprobs >= 0} each token also carries its log-probability and its
     * step's {@code logprobs} most likely tokens. Safe to call from any thread.
     */
    public Request request(List<int[]> prompts, GenerationOptions options, int logprobs, Listener listener) {
        int vocab = model.config().vocabSize();
        Request request = new Request();
        SplittableRandom seeds = new SplittableRandom(options.seed());
        for (int p = 0; p < prompts.size(); p++) {
            int[] tokens = prompts.get(p).length == 0 ? new int[] {tokenizer.endOfText()} : prompts.get(p);
            for (int token : tokens) {
                if (token < 0 || token >= vocab) {
                    throw new IllegalArgumentException("prompt " + (p + 1) + ": token " + token
                            + " is outside the vocabulary [0, " + vocab + ")");
                }
            }
            request.prompts.add(new Prompt(request, fitContext(p, tokens, options)));
        }
        for (int p = 0; p < prompts.size(); p++) {
            Prompt prompt = request.prompts.get(p);
            for (int s = 0; s < options.samples(); s++) {
                Sequence sequence = new Sequence(request.sequences.size(), p, s, prompt.tokens, options, logprobs,
                        seeds.split(), model, tokenizer, listener, request);
                prompt.samples.add(sequence);
                request.sequences.add(sequence);
            }
        }
        request.unfinished = request.sequences.size();
        return request;
    }

    /** The prompt, or its last tokens under {@code truncate}, such that it and the new tokens fit the context. */
    private int[] fitContext(int prompt, int[] tokens, GenerationOptions options) {
        int context = model.config().nPositions();
        // The last new token is never fed back, hence the + 1.
        int room = context + 1 - options.maxNewTokens();
        if (room < 1) {
            throw new IllegalArgumentException(options.maxNewTokens() + " new tokens do not fit the model's context of "
                    + context + " tokens");
        }
        if (tokens.length <= room) return tokens;
        if (options.truncate()) return Arrays.copyOfRange(tokens, tokens.length - room, tokens.length);
        throw new IllegalArgumentException("prompt " + (prompt + 1) + " is " + tokens.length + " tokens: with "
                + options.maxNewTokens() + " new tokens it exceeds the model's context of " + context
                + " tokens (truncating would keep its last " + room + ")");
    }

    /** Adds the request's sequences to the batch, with their KV caches; its prompts are read from the next step on. */
    public void join(Request request) {
        for (Sequence sequence : request.sequences) sequence.allocateCache();
        prefilling.addAll(request.prompts);
        sequences += request.sequences.size();
    }

    /** Takes the request's unfinished sequences out of the batch (its client went away) and cancels its result. */
    public void remove(Request request) {
        drop(request, new CancellationException("the request was cancelled"));
    }

    private void drop(Request request, RuntimeException why) {
        prefilling.removeIf(p -> p.request == request);
        decoding.removeIf(s -> s.request == request);
        for (Sequence s : request.sequences) {
            if (s.result == null) {
                s.cache = null;
                sequences--;
            }
        }
        request.unfinished = 0;
        if (why instanceof CancellationException) request.result.cancel(false);
        else request.result.completeExceptionally(why);
    }

    public boolean isEmpty() {
        return sequences == 0;
    }

    /** Unfinished sequences in the batch, decoding or waiting for their prompt. */
    public int sequences() {
        return sequences;
    }

    /**
     * One forward pass: a token for each decoding sequence, and prompt chunks up to one chunk's worth of tokens (at
     * least one chunk, the oldest first). Returns the rows fed.
     */
    public int step() {
        List<Prompt> chunked = new ArrayList<>();
        int budget = prefillChunk;
        for (Prompt prompt : prefilling) {
            int chunk = chunk(prompt);
            if (!chunked.isEmpty() && chunk > budget) break;
            chunked.add(prompt);
            budget -= chunk;
        }
        int count = decoding.size() + chunked.size();
        int[][] feed = new int[count][];
        KVCache[] caches = new KVCache[count];
        int[] logitRows = new int[count];
        int i = 0, rows = 0, outRows = 0;
        for (Sequence sequence : decoding) {
            feed[i] = new int[] {sequence.lastToken()};
            caches[i] = sequence.cache;
            logitRows[i++] = 1;
        }
        for (Prompt prompt : chunked) {
            int chunk = chunk(prompt);
            feed[i] = Arrays.copyOfRange(prompt.tokens, prompt.fed, prompt.fed + chunk);
            caches[i] = prompt.first().cache;
            logitRows[i++] = prompt.fed + chunk == prompt.tokens.length ? 1 : 0;
        }
        for (int s = 0; s < count; s++) {
            rows += feed[s].length;
            outRows += logitRows[s];
        }
        int vocab = model.config().vocabSize();
        if (logits.length < (long) outRows * vocab) logits = new float[Math.multiplyExact(outRows, vocab)];
        model.forward(feed, caches, logitRows, logits);

        int row = 0;
        List<Sequence> stepped = decoding;
        decoding = new ArrayList<>(stepped.size());
        for (Sequence sequence : stepped) take(sequence, row++ * vocab);
        for (Prompt prompt : chunked) {
            if (prompt.request.result.isDone()) continue; // removed in this step, when a listener failed
            prompt.fed += chunk(prompt);
            if (prompt.fed < prompt.tokens.length) continue;
            prefilling.remove(prompt);
            for (Sequence sample : prompt.samples) {
                if (sample != prompt.first()) sample.cache.copyFrom(prompt.first().cache);
            }
            int offset = row++ * vocab;
            for (Sequence sample : prompt.samples) take(sample, offset);
        }
        return rows;
    }

    private int chunk(Prompt prompt) {
        return Math.min(prefillChunk, prompt.tokens.length - prompt.fed);
    }

    /** The sequence draws its next token; it keeps decoding, or its request learns that it is done. */
    private void take(Sequence sequence, int offset) {
        Request request = sequence.request;
        if (request.result.isDone()) return; // its listener failed earlier in this step
        try {
            sequence.next(logits, offset);
        } catch (RuntimeException e) {
            drop(request, e); // a listener that fails (its client went away) ends its own request only
            return;
        }
        if (sequence.result == null) {
            decoding.add(sequence);
            return;
        }
        sequences--;
        if (--request.unfinished == 0) {
            request.result.complete(request.sequences.stream().map(s -> s.result).toList());
        }
    }
}
