package org.jgpt.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Each logits processor against distributions worked out by hand, and the sampler's draws against them. */
class SamplerTest {
    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeSeenLogits() {
        float[] scores = {2f, -2f, 1f, 0.5f};
        Sampler.repetitionPenalty(scores, new boolean[] {true, true, false, false}, 2f);
        assertArrayEquals(new float[] {1f, -4f, 1f, 0.5f}, scores);
    }

    @Test
    void temperatureDividesEveryLogit() {
        float[] scores = {2f, -4f, 1f};
        Sampler.temperature(scores, 0.5f);
        assertArrayEquals(new float[] {4f, -8f, 2f}, scores);
    }

    @Test
    void topKKeepsTheKLargestAndTiesWithTheKth() {
        float[] scores = {1f, 5f, 3f, 3f, 2f};
        Sampler.topK(scores, 2, new float[5]);
        assertArrayEquals(new float[] {NEG_INF, 5f, 3f, 3f, NEG_INF}, scores);
        float[] one = {1f, 5f, 3f};
        Sampler.topK(one, 1, new float[3]);
        assertArrayEquals(new float[] {NEG_INF, 5f, NEG_INF}, one);
        float[] all = {1f, 2f};
        Sampler.topK(all, 5, new float[2]);
        assertArrayEquals(new float[] {1f, 2f}, all);
    }

    @Test
    void topPKeepsTheSmallestHeadReachingP() {
        // Probabilities 0.5, 0.3, 0.15, 0.05 (in a shuffled order).
        assertArrayEquals(new boolean[] {true, false, true, false}, keptByTopP(0.7f));  // 0.5 + 0.3 reaches 0.7
        assertArrayEquals(new boolean[] {true, false, true, true}, keptByTopP(0.85f));  // needs 0.15 too
        assertArrayEquals(new boolean[] {false, false, true, false}, keptByTopP(0.3f)); // the top token alone
        assertArrayEquals(new boolean[] {true, true, true, true}, keptByTopP(1f));
    }

    private static boolean[] keptByTopP(float p) {
        double[] probs = {0.3, 0.05, 0.5, 0.15};
        float[] scores = new float[4];
        for (int i = 0; i < 4; i++) scores[i] = (float) Math.log(probs[i]);
        Sampler.topP(scores, p, new double[4], new double[4]);
        boolean[] kept = new boolean[4];
        for (int i = 0; i < 4; i++) kept[i] = scores[i] != NEG_INF;
        return kept;
    }

    @Test
    void drawsFollowTheProcessedDistribution() {
        // logits {1, 2, 0, 3} / temperature 0.5 = {2, 4, 0, 6}; top-2 keeps {4, 6}: p = 1/(1+e^2), e^2/(1+e^2).
        GenerationOptions options = GenerationOptions.defaults().withTemperature(0.5f).withTopK(2);
        Sampler sampler = new Sampler(options, 4, new SplittableRandom(42));
        float[] logits = {1f, 2f, 0f, 3f};
        int[] counts = new int[4];
        int draws = 20_000;
        for (int i = 0; i < draws; i++) counts[sampler.next(logits, 0)]++;
        double expected1 = 1 / (1 + Math.exp(2));
        assertEquals(0, counts[0]);
        assertEquals(0, counts[2]);
        // 5 standard deviations of a binomial proportion over 20,000 draws is about 0.011.
        assertEquals(expected1, counts[1] / (double) draws, 0.011);
        assertEquals(1 - expected1, counts[3] / (double) draws, 0.011);
        assertArrayEquals(new float[] {1f, 2f, 0f, 3f}, logits, "the caller's logits are left alone");
    }

    @Test
    void plainSamplingFollowsTheSoftmax() {
        Sampler sampler = new Sampler(GenerationOptions.defaults(), 3, new SplittableRandom(7));
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.2)};
        int[] counts = new int[3];
        for (int i = 0; i < 20_000; i++) counts[sampler.next(logits, 0)]++;
        assertEquals(0.5, counts[0] / 20_000.0, 0.018);
        assertEquals(0.3, counts[1] / 20_000.0, 0.017);
        assertEquals(0.2, counts[2] / 20_000.0, 0.015);
    }

    @Test
    void greedyTakesTheArgmaxAfterThePenalty() {
        GenerationOptions options = GenerationOptions.defaults().withTemperature(0f).withRepetitionPenalty(2f);
        Sampler sampler = new Sampler(options, 3, new SplittableRandom(1));
        float[] logits = {0f, 3f, 2.5f};
        assertEquals(1, sampler.next(logits, 0));
        sampler.see(1); // 3 / 2 = 1.5 now trails 2.5
        assertEquals(2, sampler.next(logits, 0));
    }

    @Test
    void sameSeedSameDraws() {
        float[] logits = new float[100];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) Math.sin(i);
        GenerationOptions options = GenerationOptions.defaults().withTopP(0.9f);
        int[] a = draws(new Sampler(options, 100, new SplittableRandom(5)), logits);
        int[] b = draws(new Sampler(options, 100, new SplittableRandom(5)), logits);
        int[] c = draws(new Sampler(options, 100, new SplittableRandom(6)), logits);
        assertArrayEquals(a, b);
        assertNotEquals(Arrays.toString(a), Arrays.toString(c));
    }

    private static int[] draws(Sampler sampler, float[] logits) {
        int[] out = new int[50];
        for (int i = 0; i < out.length; i++) out[i] = sampler.next(logits, 0);
        return out;
    }
}
