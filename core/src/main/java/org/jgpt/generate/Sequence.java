package org.jgpt.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.jgpt.generate.Generator.Completion;
import org.jgpt.generate.Generator.FinishReason;
import org.jgpt.generate.Generator.Listener;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.KVCache;
import org.jgpt.tokenizer.StreamingDecoder;
import org.jgpt.tokenizer.Tokenizer;

/**
 * One sample being generated: its KV cache, sampler and random generator, the tokens so far and their text. Text is
 * handed to the listener as it is made, with UTF-8 characters never split and nothing emitted that a stop string
 * might still claim.
 */
final class Sequence {
    final int index, prompt, sample;
    final int[] promptTokens;
    private final GenerationOptions options;
    private final GPT2Model model;
    private final Tokenizer tokenizer;
    private final Sampler sampler;
    private final StreamingDecoder decoder;
    private final int[] tokens;
    private final int logprobs;
    private final List<TokenLogprob> tokenLogprobs = new ArrayList<>();
    private final StringBuilder text = new StringBuilder();
    private final Listener listener;
    final Batch.Request request;
    /** Made when the sequence joins a batch, so that requests waiting in a queue hold no memory. */
    KVCache cache;
    private int count;
    private int emitted;
    Completion result;

    Sequence(int index, int prompt, int sample, int[] promptTokens, GenerationOptions options, int logprobs,
             SplittableRandom random, GPT2Model model, Tokenizer tokenizer, Listener listener, Batch.Request request) {
        this.index = index;
        this.prompt = prompt;
        this.sample = sample;
        this.promptTokens = promptTokens;
        this.options = options;
        this.model = model;
        this.tokenizer = tokenizer;
        this.sampler = new Sampler(options, model.config().vocabSize(), random);
        this.decoder = tokenizer.newStreamingDecoder();
        this.tokens = new int[options.maxNewTokens()];
        this.logprobs = logprobs;
        this.listener = listener;
        this.request = request;
        for (int token : promptTokens) sampler.see(token);
    }

    /** Room for the prompt and every new token but the last, which is never fed back. */
    void allocateCache() {
        cache = model.newCache(promptTokens.length + options.maxNewTokens() - 1);
    }

    /** The token to feed next: the last one drawn. */
    int lastToken() {
        return tokens[count - 1];
    }

    /** Draws the next token from the row of logits at {@code offset} and takes it. */
    void next(float[] logits, int offset) {
        accept(sampler.next(logits, offset), logits, offset);
    }

    private void accept(int token, float[] logits, int offset) {
        if (tokenizer.hasEndOfText() && token == tokenizer.endOfText()) {
            finish(FinishReason.END_OF_TEXT);
            return;
        }
        if (logprobs >= 0) {
            TokenLogprob logprob = TokenLogprob.of(logits, offset, model.config().vocabSize(), token, logprobs);
            tokenLogprobs.add(logprob);
            listener.onToken(index, logprob);
        }
        tokens[count++] = token;
        sampler.see(token);
        text.append(decoder.push(token));
        int stop = firstStop();
        if (stop >= 0) {
            text.setLength(stop);
            finish(FinishReason.STOP);
        } else if (count == tokens.length) {
            finish(FinishReason.LENGTH);
        } else {
            emit(text.length() - heldBack());
        }
    }

    private void finish(FinishReason reason) {
        if (reason != FinishReason.STOP) {
            text.append(decoder.flush());
            int stop = firstStop();
            if (stop >= 0) {
                text.setLength(stop);
                reason = FinishReason.STOP;
            }
        }
        emit(text.length());
        result = new Completion(index, prompt, sample, promptTokens, Arrays.copyOf(tokens, count), text.toString(),
                reason, List.copyOf(tokenLogprobs));
        cache = null;
        listener.onFinish(result);
    }

    private void emit(int end) {
        if (end > emitted) {
            listener.onText(index, text.substring(emitted, end));
            emitted = end;
        }
    }

    /** Where the first stop string starts in the text, or -1. */
    private int firstStop() {
        int first = -1;
        for (String stop : options.stop()) {
            int at = text.indexOf(stop, Math.max(0, emitted - stop.length()));
            if (at >= 0 && (first < 0 || at < first)) first = at;
        }
        return first;
    }

    /** Length of the longest end of the text that could begin a stop string: not streamed yet. */
    private int heldBack() {
        int held = 0;
        for (String stop : options.stop()) {
            for (int k = Math.min(stop.length() - 1, text.length()); k > held; k--) {
                if (endsWith(stop, k)) {
                    held = k;
                    break;
                }
            }
        }
        return held;
    }

    /** Whether the text ends with the first {@code k} chars of {@code stop}. */
    private boolean endsWith(String stop, int k) {
        int from = text.length() - k;
        for (int i = 0; i < k; i++) {
            if (text.charAt(from + i) != stop.charAt(i)) return false;
        }
        return true;
    }
}
