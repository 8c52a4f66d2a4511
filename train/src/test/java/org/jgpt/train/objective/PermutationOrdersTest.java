package org.jgpt.train.objective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The collator's construction of spans and orders: spans of 1..5 tokens, one per context of span × 6 tokens, so
 * that about 1/6 of the tokens are predicted; special tokens and padding never predicted; predicted tokens ranked
 * as the collator's pair shuffle (a permutation of the positions, i and i + T/2 in the same order), the rest -1;
 * a function of the seed; an odd length refused.
 */
class PermutationOrdersTest {
    private static final int BOS = 0, PAD = 1, EOS = 2;
    private final PermutationOrders orders = new PermutationOrders(id -> id <= 3, 128);

    @Test
    void spansAreOneToFiveTokensEachInItsOwnContext() {
        SplittableRandom random = new SplittableRandom(1);
        long spans = 0, spanTokens = 0;
        for (int trial = 0; trial < 2_000; trial++) {
            int covered = 0;
            for (int[] span : PermutationOrders.spans(128, random)) {
                assertTrue(span[1] >= 1 && span[1] <= PermutationOrders.MAX_SPAN_LENGTH, "span of " + span[1]);
                assertTrue(span[0] >= covered && span[0] + span[1] <= covered + 6 * span[1], "span outside its context");
                covered += 6 * span[1];
                spans++;
                spanTokens += span[1];
            }
            assertTrue(covered >= 128);
        }
        assertEquals(3.0, (double) spanTokens / spans, 0.05, "mean span length, uniform over 1..5");
    }

    @Test
    void aboutOneSixthIsPredictedAndNothingSpecial() {
        int batch = 4, t = 128;
        int[] inputs = new int[batch * t], lengths = new int[batch], labels = new int[batch * t], ranks = new int[batch * t];
        long predicted = 0, real = 0;
        for (long seed = 0; seed < 250; seed++) {
            for (int b = 0; b < batch; b++) {
                lengths[b] = b == 3 ? 90 : t; // the last one padded
                for (int i = 0; i < t; i++) inputs[b * t + i] = i >= lengths[b] ? PAD : 4 + (i * 7 + b) % 50;
                inputs[b * t] = BOS;
                inputs[b * t + lengths[b] - 1] = EOS;
                real += lengths[b] - 2;
            }
            orders.draw(inputs, lengths, labels, ranks, batch, seed);
            for (int r = 0; r < batch * t; r++) {
                boolean isPredicted = labels[r] >= 0;
                assertEquals(isPredicted, ranks[r] >= 0, "a rank without a label or the reverse");
                if (!isPredicted) continue;
                predicted++;
                assertEquals(inputs[r], labels[r]);
                assertTrue(inputs[r] > 3, "special token or padding predicted");
            }
        }
        assertEquals(1.0 / 6, (double) predicted / real, 0.01, "share predicted");
    }

    @Test
    void ranksFollowTheCollatorsPairShuffle() {
        int t = 128;
        int[] inputs = new int[t], labels = new int[t], ranks = new int[t];
        Arrays.fill(inputs, 10);
        for (long seed = 0; seed < 50; seed++) {
            orders.draw(inputs, new int[] {t}, labels, ranks, 1, seed);
            // recover the collator's permutation where both halves are predicted: i and i + T/2 differ by T/2
            boolean[] used = new boolean[t];
            for (int i = 0; i < t; i++) {
                if (ranks[i] < 0) continue;
                assertTrue(i < t / 2 ? ranks[i] < t / 2 : ranks[i] >= t / 2, "a rank outside its half");
                assertTrue(!used[ranks[i]], "rank used twice");
                used[ranks[i]] = true;
                if (i < t / 2 && ranks[i + t / 2] >= 0) assertEquals(ranks[i] + t / 2, ranks[i + t / 2]);
            }
        }
        int[] again = new int[t];
        orders.draw(inputs, new int[] {t}, labels, ranks, 1, 7);
        orders.draw(inputs, new int[] {t}, labels, again, 1, 7);
        assertArrayEquals(ranks, again, "not a function of the seed");
    }

    @Test
    void anOddLengthIsRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> new PermutationOrders(id -> false, 127));
        assertTrue(e.getMessage().contains("even"), e.getMessage());
    }
}
