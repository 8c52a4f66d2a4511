package org.jgpt.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jgpt.generate.GenerationOptions;
import org.jgpt.generate.Generator;
import org.jgpt.generate.Scorer;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.KVCache;
import org.jgpt.tokenizer.Tokenizer;

/** A model with its tokenizer: what every task scores with or generates from. */
public final class LanguageModel {
    private static final int GENERATION_BATCH = 8;

    private final GPT2Model model;
    private final Tokenizer tokenizer;
    private final Scorer scorer;
    private final Generator generator;

    public LanguageModel(GPT2Model model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.scorer = new Scorer(model);
        this.generator = new Generator(model, tokenizer);
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public int[] encode(String text) {
        return tokenizer.encode(text);
    }

    public int contextLength() {
        return model.config().nPositions();
    }

    public List<Scorer.Score> score(List<Scorer.Request> requests) {
        return scorer.score(requests);
    }

    public List<Generator.Completion> generate(List<String> prompts, GenerationOptions options) {
        return generator.generate(prompts, options, (sequence, text) -> {});
    }

    /** Greedy decoding up to a newline (or end of text) for at most {@code maxTokens}; long prompts keep their end. */
    public static GenerationOptions greedyLine(int maxTokens) {
        return GenerationOptions.defaults().withTemperature(0).withMaxNewTokens(maxTokens).withStop(List.of("\n"))
                .withSeed(0).withTruncate(true);
    }

    /** Generates for each prompt in batches, stepping the progress once per prompt. */
    public List<Generator.Completion> generate(List<String> prompts, GenerationOptions options, Progress progress) {
        List<Generator.Completion> out = new ArrayList<>();
        for (List<String> batch : batches(prompts, GENERATION_BATCH)) {
            out.addAll(generate(batch, options));
            progress.step(batch.size());
        }
        return out;
    }

    /** Logits of the token after {@code context} (its last tokens, when it is longer than the model's context). */
    public float[] nextTokenLogits(int[] context) {
        int[] fed = Arrays.copyOfRange(context, Math.max(0, context.length - contextLength()), context.length);
        float[] logits = new float[model.config().vocabSize()];
        model.forward(new int[][] {fed}, new KVCache[] {model.newCache(fed.length)}, logits);
        return logits;
    }

    /** The mean over tokens of the final hidden states (after ln_f) of a text's first context-length tokens. */
    public float[] meanHiddenState(int[] tokens) {
        if (tokens.length == 0) throw new IllegalArgumentException("cannot embed an empty text");
        int[] fed = Arrays.copyOf(tokens, Math.min(tokens.length, contextLength()));
        int c = model.config().nEmbd();
        float[] hidden = new float[fed.length * c];
        model.hiddenStates(new int[][] {fed}, new KVCache[] {model.newCache(fed.length)}, new int[] {fed.length}, hidden);
        double[] sum = new double[c];
        for (int t = 0; t < fed.length; t++) {
            for (int j = 0; j < c; j++) sum[j] += hidden[t * c + j];
        }
        float[] mean = new float[c];
        for (int j = 0; j < c; j++) mean[j] = (float) (sum[j] / fed.length);
        return mean;
    }

    /** Splits work into batches so that progress moves and each scorer call stays a reasonable size. */
    static <T> List<List<T>> batches(List<T> items, int size) {
        List<List<T>> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i += size) out.add(items.subList(i, Math.min(items.size(), i + size)));
        return out;
    }
}
