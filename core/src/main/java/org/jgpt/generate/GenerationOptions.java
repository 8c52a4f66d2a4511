package org.jgpt.generate;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How to generate. Logits pass through, in Hugging Face's order: repetition penalty, temperature, top-k, top-p.
 *
 * @param maxNewTokens      tokens to generate at most per sample
 * @param temperature       divides the logits; 0 means greedy (argmax after the repetition penalty)
 * @param topK              keep the k most likely tokens; 0 keeps all
 * @param topP              keep the smallest set of most likely tokens whose probability reaches p; 1 keeps all
 * @param repetitionPenalty CTRL's penalty over tokens already in prompt or output; 1 is none
 * @param stop              stop as soon as the generated text contains one of these (the output excludes it)
 * @param seed              seeds each sample's own random generator, so a run can be reproduced
 * @param samples           samples per prompt
 * @param truncate          keep a too-long prompt's last tokens instead of failing
 */
public record GenerationOptions(int maxNewTokens, float temperature, int topK, float topP, float repetitionPenalty,
                                List<String> stop, long seed, int samples, boolean truncate) {

    public GenerationOptions {
        stop = List.copyOf(stop);
        if (maxNewTokens < 1) throw new IllegalArgumentException("max new tokens must be at least 1: " + maxNewTokens);
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0: " + temperature);
        }
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0 (0 = off): " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1]: " + topP);
        if (!(repetitionPenalty > 0) || Float.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetition penalty must be a finite number > 0: " + repetitionPenalty);
        }
        if (stop.stream().anyMatch(String::isEmpty)) throw new IllegalArgumentException("a stop string is empty");
        if (samples < 1) throw new IllegalArgumentException("samples per prompt must be at least 1: " + samples);
    }

    /** 50 new tokens, temperature 1, no top-k, top-p or penalty, no stop strings, a random seed, one sample. */
    public static GenerationOptions defaults() {
        return new GenerationOptions(50, 1f, 0, 1f, 1f, List.of(), ThreadLocalRandom.current().nextLong(), 1, false);
    }

    public GenerationOptions withMaxNewTokens(int n) {
        return new GenerationOptions(n, temperature, topK, topP, repetitionPenalty, stop, seed, samples, truncate);
    }

    public GenerationOptions withTemperature(float t) {
        return new GenerationOptions(maxNewTokens, t, topK, topP, repetitionPenalty, stop, seed, samples, truncate);
    }

    public GenerationOptions withTopK(int k) {
        return new GenerationOptions(maxNewTokens, temperature, k, topP, repetitionPenalty, stop, seed, samples, truncate);
    }

    public GenerationOptions withTopP(float p) {
        return new GenerationOptions(maxNewTokens, temperature, topK, p, repetitionPenalty, stop, seed, samples, truncate);
    }

    public GenerationOptions withRepetitionPenalty(float r) {
        return new GenerationOptions(maxNewTokens, temperature, topK, topP, r, stop, seed, samples, truncate);
    }

    public GenerationOptions withStop(List<String> s) {
        return new GenerationOptions(maxNewTokens, temperature, topK, topP, repetitionPenalty, s, seed, samples, truncate);
    }

    public GenerationOptions withSeed(long s) {
        return new GenerationOptions(maxNewTokens, temperature, topK, topP, repetitionPenalty, stop, s, samples, truncate);
    }

    public GenerationOptions withSamples(int n) {
        return new GenerationOptions(maxNewTokens, temperature, topK, topP, repetitionPenalty, stop, seed, n, truncate);
    }

    public GenerationOptions withTruncate(boolean t) {
        return new GenerationOptions(maxNewTokens, temperature, topK, topP, repetitionPenalty, stop, seed, samples, t);
    }

    public boolean greedy() {
        return temperature == 0;
    }
}
