package org.jgpt.generate;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Picks one sample's next tokens: the logits processors of {@link GenerationOptions}, in Hugging Face's order, then
 * argmax (temperature 0) or a draw from the softmax. Holds the sample's random generator, the set of tokens already
 * seen (for the repetition penalty) and scratch rows, allocated once.
 */
public final class Sampler {
    private final GenerationOptions options;
    private final RandomGenerator random;
    private final boolean[] seen;
    private final float[] scores;
    private final float[] sortedScores;
    private final double[] probs;
    private final double[] sortedProbs;

    public Sampler(GenerationOptions options, int vocabSize, RandomGenerator random) {
        this.options = options;
        this.random = random;
        this.seen = new boolean[vocabSize];
        this.scores = new float[vocabSize];
        this.sortedScores = options.topK() > 0 ? new float[vocabSize] : null;
        this.probs = options.topP() < 1 ? new double[vocabSize] : null;
        this.sortedProbs = options.topP() < 1 ? new double[vocabSize] : null;
    }

    /** Records a token of the prompt or of the output, for the repetition penalty. */
    public void see(int token) {
        seen[token] = true;
    }

    /** The next token, from the row of logits at {@code logits[offset .. offset + vocab)}; the logits are left as they are. */
    public int next(float[] logits, int offset) {
        System.arraycopy(logits, offset, scores, 0, scores.length);
        if (options.repetitionPenalty() != 1f) repetitionPenalty(scores, seen, options.repetitionPenalty());
        if (options.greedy()) return argmax(scores);
        if (options.temperature() != 1f) temperature(scores, options.temperature());
        if (options.topK() > 0) topK(scores, options.topK(), sortedScores);
        if (options.topP() < 1f) topP(scores, options.topP(), probs, sortedProbs);
        return sample(scores, random);
    }

    /** CTRL's penalty, as in Hugging Face: a seen token's positive logit is divided by it, a negative one multiplied. */
    public static void repetitionPenalty(float[] scores, boolean[] seen, float penalty) {
        for (int v = 0; v < scores.length; v++) {
            if (seen[v]) scores[v] = scores[v] > 0 ? scores[v] / penalty : scores[v] * penalty;
        }
    }

    public static void temperature(float[] scores, float temperature) {
        for (int v = 0; v < scores.length; v++) scores[v] /= temperature;
    }

    /** Sets to -inf every score below the k-th largest (ties with it stay). {@code scratch} holds a sorted copy. */
    public static void topK(float[] scores, int k, float[] scratch) {
        if (k >= scores.length) return;
        System.arraycopy(scores, 0, scratch, 0, scores.length);
        Arrays.sort(scratch, 0, scores.length);
        float threshold = scratch[scores.length - k];
        for (int v = 0; v < scores.length; v++) {
            if (scores[v] < threshold) scores[v] = Float.NEGATIVE_INFINITY;
        }
    }

    /**
     * Nucleus filtering as in Hugging Face: going from the most likely token down, a token is kept while the
     * probability of those before it is below {@code p} (so at least one is kept); the rest become -inf.
     * {@code probs} and {@code sorted} are scratch rows.
     */
    public static void topP(float[] scores, float p, double[] probs, double[] sorted) {
        softmax(scores, probs);
        System.arraycopy(probs, 0, sorted, 0, scores.length);
        Arrays.sort(sorted, 0, scores.length);
        double before = 0;
        double threshold = sorted[scores.length - 1];
        for (int i = scores.length - 1; i >= 0 && before < p; i--) {
            threshold = sorted[i];
            before += sorted[i];
        }
        for (int v = 0; v < scores.length; v++) {
            if (probs[v] < threshold) scores[v] = Float.NEGATIVE_INFINITY;
        }
    }

    /** softmax(scores) in double, into {@code probs}. */
    public static void softmax(float[] scores, double[] probs) {
        double max = Double.NEGATIVE_INFINITY;
        for (float s : scores) max = Math.max(max, s);
        double sum = 0;
        for (int v = 0; v < scores.length; v++) sum += probs[v] = Math.exp(scores[v] - max);
        for (int v = 0; v < scores.length; v++) probs[v] /= sum;
    }

    /** A token drawn from softmax(scores). */
    static int sample(float[] scores, RandomGenerator random) {
        double max = Double.NEGATIVE_INFINITY;
        for (float s : scores) max = Math.max(max, s);
        double sum = 0;
        for (float s : scores) sum += Math.exp(s - max);
        double u = random.nextDouble() * sum;
        int last = 0;
        for (int v = 0; v < scores.length; v++) {
            double e = Math.exp(scores[v] - max);
            if (e == 0) continue;
            last = v;
            u -= e;
            if (u < 0) return v;
        }
        return last; // rounding left u a hair above 0: the last token with any probability
    }

    /** Index of the largest score (the first, on ties). */
    static int argmax(float[] scores) {
        int best = 0;
        for (int v = 1; v < scores.length; v++) {
            if (scores[v] > scores[best]) best = v;
        }
        return best;
    }
}
