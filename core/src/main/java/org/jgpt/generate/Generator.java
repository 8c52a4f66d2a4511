package org.jgpt.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.KVCache;
import org.jgpt.tokenizer.Tokenizer;
import org.jgpt.tokenizer.StreamingDecoder;

/**
 * Text generation: several prompts, several samples each, all decoded together through the model's ragged batch.
 * Each prompt is run once and its KV cache copied to its samples. Text streams to a {@link Listener} as it is
 * made, with UTF-8 characters never split and nothing emitted that a stop string might still claim.
 */
public final class Generator {
    private final GPT2Model model;
    private final Tokenizer tokenizer;

    /** Receives text as it is made; sequence {@code i} is sample {@code i % samples} of prompt {@code i / samples}. */
    public interface Listener {
        void onText(int sequence, String text);

        default void onFinish(Completion completion) {}
    }

    public enum FinishReason { LENGTH, END_OF_TEXT, STOP }

    /**
     * One sample's result.
     *
     * @param promptTokens the prompt as fed (its last tokens only, when truncated)
     * @param tokens       the generated tokens, without {@code <|endoftext|>} (with those of a stop string)
     * @param text         the generated text, up to a stop string
     * @param logprobs     each generated token's log-probability and its step's most likely tokens, when asked for
     *                     (see {@link #generateTokens}); otherwise empty
     */
    public record Completion(int sequence, int prompt, int sample, int[] promptTokens, int[] tokens, String text,
                             FinishReason reason, List<TokenLogprob> logprobs) {}

    public Generator(GPT2Model model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** Generates {@code options.samples()} continuations of each prompt; an empty prompt starts from {@code <|endoftext|>}. */
    public List<Completion> generate(List<String> prompts, GenerationOptions options, Listener listener) {
        return generateTokens(prompts.stream().map(tokenizer::encode).toList(), options, -1, listener);
    }

    /**
     * {@link #generate} from prompts already tokenized. With {@code logprobs >= 0} each completion also carries its
     * tokens' log-probabilities under the model, each with the {@code logprobs} most likely tokens of its step.
     */
    public List<Completion> generateTokens(List<int[]> prompts, GenerationOptions options, int logprobs,
                                           Listener listener) {
        int vocab = model.config().vocabSize();
        List<int[]> promptTokens = new ArrayList<>();
        for (int p = 0; p < prompts.size(); p++) {
            int[] tokens = prompts.get(p).length == 0 ? new int[] {tokenizer.endOfText()} : prompts.get(p);
            for (int token : tokens) {
                if (token < 0 || token >= vocab) {
                    throw new IllegalArgumentException("prompt " + (p + 1) + ": token " + token
                            + " is outside the vocabulary [0, " + vocab + ")");
                }
            }
            promptTokens.add(fitContext(p, tokens, options));
        }

        SplittableRandom seeds = new SplittableRandom(options.seed());
        List<Sequence> sequences = new ArrayList<>();
        for (int p = 0; p < prompts.size(); p++) {
            for (int s = 0; s < options.samples(); s++) {
                sequences.add(new Sequence(sequences.size(), p, s, promptTokens.get(p), options, logprobs,
                        seeds.split()));
            }
        }

        // Prefill each prompt once, into its first sample's cache; the other samples copy it.
        float[] logits = new float[Math.max(prompts.size(), sequences.size()) * vocab];
        int[][] prefill = promptTokens.toArray(new int[0][]);
        KVCache[] prefillCaches = new KVCache[prompts.size()];
        for (int p = 0; p < prompts.size(); p++) prefillCaches[p] = sequences.get(p * options.samples()).cache;
        model.forward(prefill, prefillCaches, logits);
        int[] rowOf = new int[sequences.size()];
        for (Sequence seq : sequences) {
            if (seq.sample > 0) seq.cache.copyFrom(prefillCaches[seq.prompt]);
            rowOf[seq.index] = seq.prompt;
        }

        List<Sequence> active = sequences;
        while (true) {
            List<Sequence> next = new ArrayList<>(active.size());
            for (Sequence seq : active) {
                int offset = rowOf[seq.index] * vocab;
                int token = seq.sampler.next(logits, offset);
                seq.accept(token, logits, offset, listener);
                if (seq.result == null) next.add(seq);
            }
            active = next;
            if (active.isEmpty()) break;
            int[][] feed = new int[active.size()][];
            KVCache[] caches = new KVCache[active.size()];
            for (int i = 0; i < active.size(); i++) {
                Sequence seq = active.get(i);
                feed[i] = new int[] {seq.tokens[seq.count - 1]};
                caches[i] = seq.cache;
                rowOf[seq.index] = i;
            }
            model.forward(feed, caches, logits);
        }
        return sequences.stream().map(seq -> seq.result).toList();
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

    /** One sample being generated. */
    private final class Sequence {
        final int index, prompt, sample;
        final int[] promptTokens;
        final GenerationOptions options;
        final KVCache cache;
        final Sampler sampler;
        final StreamingDecoder decoder = tokenizer.newStreamingDecoder();
        final int[] tokens;
        final int logprobs;
        final List<TokenLogprob> tokenLogprobs = new ArrayList<>();
        final StringBuilder text = new StringBuilder();
        int count;
        int emitted;
        Completion result;

        Sequence(int index, int prompt, int sample, int[] promptTokens, GenerationOptions options, int logprobs,
                 SplittableRandom random) {
            this.index = index;
            this.prompt = prompt;
            this.sample = sample;
            this.promptTokens = promptTokens;
            this.options = options;
            this.cache = model.newCache(promptTokens.length + options.maxNewTokens() - 1);
            this.sampler = new Sampler(options, model.config().vocabSize(), random);
            this.tokens = new int[options.maxNewTokens()];
            this.logprobs = logprobs;
            for (int token : promptTokens) sampler.see(token);
        }

        /** Takes {@code token}, drawn from the row of logits at {@code offset}. */
        void accept(int token, float[] logits, int offset, Listener listener) {
            if (tokenizer.hasEndOfText() && token == tokenizer.endOfText()) {
                finish(FinishReason.END_OF_TEXT, listener);
                return;
            }
            if (logprobs >= 0) {
                tokenLogprobs.add(TokenLogprob.of(logits, offset, model.config().vocabSize(), token, logprobs));
            }
            tokens[count++] = token;
            sampler.see(token);
            text.append(decoder.push(token));
            int stop = firstStop();
            if (stop >= 0) {
                text.setLength(stop);
                finish(FinishReason.STOP, listener);
            } else if (count == tokens.length) {
                finish(FinishReason.LENGTH, listener);
            } else {
                emit(text.length() - heldBack(), listener);
            }
        }

        private void finish(FinishReason reason, Listener listener) {
            if (reason != FinishReason.STOP) {
                text.append(decoder.flush());
                int stop = firstStop();
                if (stop >= 0) {
                    text.setLength(stop);
                    reason = FinishReason.STOP;
                }
            }
            emit(text.length(), listener);
            result = new Completion(index, prompt, sample, promptTokens, Arrays.copyOf(tokens, count), text.toString(),
                    reason, List.copyOf(tokenLogprobs));
            listener.onFinish(result);
        }

        private void emit(int end, Listener listener) {
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
}
