package org.jgpt.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The most likely tokens of a row of logits, by hand: order, ties (the lower id first), and counts past the row. */
class TokenLogprobTest {
    private static final float[] ROW = {9f, 1f, 3f, 3f, 0f, 2f}; // the row starts at offset 1

    private static double logprob(int token) {
        double sum = 0;
        for (int i = 1; i < ROW.length; i++) sum += Math.exp(ROW[i]);
        return ROW[token + 1] - Math.log(sum);
    }

    @Test
    void mostLikelyFirstWithTiesInIdOrder() {
        TokenLogprob lp = TokenLogprob.of(ROW, 1, 5, 3, 3);
        assertEquals(3, lp.token());
        assertEquals(logprob(3), lp.logprob(), 1e-12);
        assertArrayEquals(new int[] {1, 2, 4}, lp.topTokens());
        assertArrayEquals(new double[] {logprob(1), logprob(2), logprob(4)}, lp.topLogprobs(), 1e-12);
    }

    @Test
    void asksForNoneOrMoreThanTheVocabulary() {
        assertEquals(0, TokenLogprob.of(ROW, 1, 5, 0, 0).topTokens().length);
        assertArrayEquals(new int[] {1, 2, 4, 0, 3}, TokenLogprob.of(ROW, 1, 5, 0, 9).topTokens());
    }
}
