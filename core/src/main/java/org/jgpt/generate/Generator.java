package org.jgpt.generate;

import java.util.List;
import java.util.concurrent.CompletionException;
import org.jgpt.model.GPT2Model;
import org.jgpt.tokenizer.Tokenizer;

/**
 * Text generation: several prompts, several samples each, all decoded together in one {@link Batch}. Each prompt is
 * run once and its KV cache copied to its samples. Text streams to a {@link Listener} as it is made, with UTF-8
 * characters never split and nothing emitted that a stop string might still claim.
 */
public final class Generator {
    private final GPT2Model model;
    private final Tokenizer tokenizer;

    /** Receives text as it is made; sequence {@code i} is sample {@code i % samples} of prompt {@code i / samples}. */
    public interface Listener {
        void onText(int sequence, String text);

        /** A token taken, with its log-probability; only when log-probabilities were asked for. */
        default void onToken(int sequence, TokenLogprob logprob) {}

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
        Batch batch = new Batch(model, tokenizer);
        Batch.Request request = batch.request(prompts, options, logprobs, listener);
        batch.join(request);
        while (!batch.isEmpty()) batch.step();
        try {
            return request.result().join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) throw cause;
            throw e;
        }
    }
}
