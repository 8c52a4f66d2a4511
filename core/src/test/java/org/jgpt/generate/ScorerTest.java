package org.jgpt.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.GPT2Weights;
import org.jgpt.model.NaiveGPT2;
import org.jgpt.model.TinyModels;
import org.junit.jupiter.api.Test;

/**
 * Scorer against log-softmax computed here, in double, from the logits of the naive reference forward.
 * Tolerance 1e-4 nats per token.
 */
class ScorerTest {
    private static final double TOLERANCE = 1e-4;
    private static final GPT2Config CONFIG = TinyModels.config(37, 24, 16, 2, 2, false);
    private static final GPT2Weights WEIGHTS = TinyModels.random(CONFIG, 3);
    private final Scorer scorer = new Scorer(new GPT2Model(WEIGHTS));

    /** log p(tokens[last] | tokens[..last]) by the naive forward. */
    private static double expectedLogprob(int[] tokens) {
        double[] row = NaiveGPT2.logits(WEIGHTS, Arrays.copyOf(tokens, tokens.length - 1))[tokens.length - 2];
        double max = Arrays.stream(row).max().orElseThrow();
        double sum = Arrays.stream(row).map(v -> Math.exp(v - max)).sum();
        return row[tokens[tokens.length - 1]] - max - Math.log(sum);
    }

    private static int naiveArgmax(int[] tokens) {
        double[] row = NaiveGPT2.logits(WEIGHTS, tokens)[tokens.length - 1];
        int best = 0;
        for (int v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
        return best;
    }

    @Test
    void batchedRequestsMatchReferenceLogSoftmax() {
        List<Scorer.Request> requests = List.of(
                new Scorer.Request(new int[] {36}, new int[] {4, 9, 12}),
                new Scorer.Request(new int[] {1, 2, 3, 4, 5, 6}, new int[] {30}),
                new Scorer.Request(new int[] {7, 7, 7}, new int[] {8, 8}));
        List<Scorer.Score> scores = scorer.score(requests);
        assertEquals(3, scores.size());
        for (int r = 0; r < requests.size(); r++) {
            int[] context = requests.get(r).context();
            int[] continuation = requests.get(r).continuation();
            double sum = 0;
            for (int i = 0; i < continuation.length; i++) {
                int[] prefix = Arrays.copyOf(context, context.length + i + 1);
                System.arraycopy(continuation, 0, prefix, context.length, i + 1);
                double expected = expectedLogprob(prefix);
                sum += expected;
                assertEquals(expected, scores.get(r).logprobs()[i], TOLERANCE, "request " + r + ", token " + i);
            }
            assertEquals(sum, scores.get(r).sum(), 3 * TOLERANCE);
        }
    }

    @Test
    void greedyFlagIsTrueExactlyWhenEveryTokenIsTheArgmax() {
        int[] context = {5, 11};
        int first = naiveArgmax(context);
        int second = naiveArgmax(new int[] {5, 11, first});
        int notFirst = (first + 1) % CONFIG.vocabSize();
        List<Scorer.Score> scores = scorer.score(List.of(
                new Scorer.Request(context, new int[] {first, second}),
                new Scorer.Request(context, new int[] {first, (second + 1) % CONFIG.vocabSize()}),
                new Scorer.Request(context, new int[] {notFirst})));
        assertTrue(scores.get(0).greedy());
        assertFalse(scores.get(1).greedy());
        assertFalse(scores.get(2).greedy());
    }

    @Test
    void longTextIsScoredInOverlappingWindows() {
        int[] tokens = new int[50];
        for (int i = 0; i < tokens.length; i++) tokens[i] = (i * 7 + 3) % CONFIG.vocabSize();
        double[] logprobs = scorer.scoreTokens(tokens);
        assertEquals(49, logprobs.length);
        // Context 24, stride 12: tokens 1..24 from position 0, 25..36 seeing from 12, 37..48 from 24, 49 from 25.
        for (int t = 1; t < tokens.length; t++) {
            int begin = t <= 24 ? 0 : t <= 36 ? 12 : t <= 48 ? 24 : 25;
            double expected = expectedLogprob(Arrays.copyOfRange(tokens, begin, t + 1));
            assertEquals(expected, logprobs[t - 1], TOLERANCE, "token " + t);
        }
    }

    @Test
    void tooLongContextKeepsItsLastTokens() {
        int[] context = new int[40];
        for (int i = 0; i < context.length; i++) context[i] = i % 30;
        Scorer.Score score = scorer.score(List.of(new Scorer.Request(context, new int[] {3, 4}))).get(0);
        int[] kept = Arrays.copyOfRange(context, 17, 40); // 23 context tokens + 1 fed continuation token = 24
        assertEquals(expectedLogprob(concat(kept, 3)), score.logprobs()[0], TOLERANCE);
        assertEquals(expectedLogprob(concat(concat(kept, 3), 4)), score.logprobs()[1], TOLERANCE);
    }

    @Test
    void emptyContextIsAnError() {
        var error = assertThrows(IllegalArgumentException.class,
                () -> scorer.score(List.of(new Scorer.Request(new int[0], new int[] {1}))));
        assertTrue(error.getMessage().contains("request 0"), error.getMessage());
    }

    private static int[] concat(int[] a, int b) {
        int[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = b;
        return out;
    }
}
