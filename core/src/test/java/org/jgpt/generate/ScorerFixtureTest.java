package org.jgpt.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.jgpt.model.Fixtures;
import org.jgpt.model.GPT2Model;
import org.jgpt.io.Checkpoints;
import org.jgpt.model.GPT2Weights;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Scorer against log-softmax computed here, in double, from PyTorch's logits in each fixture: every token of every
 * input sequence (tolerance 1e-4 nats), and batched (context, continuation) requests with their greedy flags.
 */
class ScorerFixtureTest {
    private static final double TOLERANCE = 1e-4;

    private static double logSoftmax(float[] row, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : row) max = Math.max(max, v);
        double sum = 0;
        for (float v : row) sum += Math.exp(v - max);
        return row[target] - max - Math.log(sum);
    }

    private static boolean isArgmax(float[] row, int target) {
        for (float v : row) if (v > row[target]) return false;
        return true;
    }

    @TestFactory
    Stream<DynamicTest> scoresMatchPyTorchLogits() throws IOException {
        return Fixtures.variants().stream().map(dir -> DynamicTest.dynamicTest(dir.getFileName().toString(), () -> {
            Fixtures.Expected expected = Fixtures.Expected.read(dir);
            try (GPT2Weights weights = Checkpoints.load(dir)) {
                Scorer scorer = new Scorer(new GPT2Model(weights));
                List<Scorer.Request> requests = new ArrayList<>();
                for (int s = 0; s < expected.inputs().length; s++) {
                    int[] tokens = expected.inputs()[s];
                    double[] logprobs = scorer.scoreTokens(tokens);
                    for (int t = 1; t < tokens.length; t++) {
                        assertEquals(logSoftmax(expected.logits()[s][t - 1], tokens[t]), logprobs[t - 1], TOLERANCE,
                                "sequence " + s + ", token " + t);
                    }
                    int split = (tokens.length + 1) / 2;
                    requests.add(new Scorer.Request(Arrays.copyOf(tokens, split),
                            Arrays.copyOfRange(tokens, split, tokens.length)));
                }
                List<Scorer.Score> scores = scorer.score(requests);
                for (int s = 0; s < requests.size(); s++) {
                    int[] tokens = expected.inputs()[s];
                    int split = requests.get(s).context().length;
                    boolean greedy = true;
                    for (int t = split; t < tokens.length; t++) {
                        float[] row = expected.logits()[s][t - 1];
                        assertEquals(logSoftmax(row, tokens[t]), scores.get(s).logprobs()[t - split], TOLERANCE);
                        greedy &= isArgmax(row, tokens[t]);
                    }
                    assertEquals(greedy, scores.get(s).greedy(), "sequence " + s);
                }
            }
        }));
    }

    /**
     * The five most likely tokens at each position: their log-probabilities equal PyTorch's five largest, in order,
     * and each token's own PyTorch log-probability (values, not ids, are compared, so near-ties cannot flip the test).
     */
    @TestFactory
    Stream<DynamicTest> mostLikelyTokensMatchPyTorchLogits() throws IOException {
        int top = 5;
        return Fixtures.variants().stream().map(dir -> DynamicTest.dynamicTest(dir.getFileName().toString(), () -> {
            Fixtures.Expected expected = Fixtures.Expected.read(dir);
            try (GPT2Weights weights = Checkpoints.load(dir)) {
                Scorer scorer = new Scorer(new GPT2Model(weights));
                for (int s = 0; s < expected.inputs().length; s++) {
                    int[] tokens = expected.inputs()[s];
                    List<TokenLogprob> scored = scorer.tokenLogprobs(tokens, top);
                    assertEquals(tokens.length - 1, scored.size());
                    for (int t = 1; t < tokens.length; t++) {
                        float[] row = expected.logits()[s][t - 1];
                        double logSum = row[0] - logSoftmax(row, 0);
                        double[] reference = new double[row.length];
                        for (int v = 0; v < row.length; v++) reference[v] = row[v] - logSum;
                        double[] largest = Arrays.stream(reference).sorted().toArray();
                        TokenLogprob lp = scored.get(t - 1);
                        assertEquals(tokens[t], lp.token());
                        assertEquals(reference[tokens[t]], lp.logprob(), TOLERANCE);
                        assertEquals(top, lp.topTokens().length);
                        for (int k = 0; k < top; k++) {
                            String at = "sequence " + s + ", token " + t + ", rank " + k;
                            assertEquals(largest[largest.length - 1 - k], lp.topLogprobs()[k], TOLERANCE, at);
                            assertEquals(reference[lp.topTokens()[k]], lp.topLogprobs()[k], TOLERANCE, at);
                        }
                    }
                }
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> pytorchsGreedyContinuationIsGreedy() throws IOException {
        return Fixtures.variants().stream().map(dir -> DynamicTest.dynamicTest(dir.getFileName().toString(), () -> {
            Fixtures.Expected expected = Fixtures.Expected.read(dir);
            try (GPT2Weights weights = Checkpoints.load(dir)) {
                Scorer.Score score = new Scorer(new GPT2Model(weights)).score(List.of(
                        new Scorer.Request(expected.greedyPrompt(), expected.greedyTokens()))).get(0);
                assertTrue(score.greedy());
            }
        }));
    }
}
