package org.jgpt.generate;

/**
 * A token's log-probability under the model (natural log, the raw distribution: no temperature or penalty), and the
 * most likely tokens at its position, most likely first (the lower id first on a tie).
 *
 * @param topTokens   the most likely tokens, as many as were asked for
 * @param topLogprobs their log-probabilities
 */
public record TokenLogprob(int token, double logprob, int[] topTokens, double[] topLogprobs) {

    /** {@code token}'s log-probability in the row {@code logits[offset .. offset + vocab)}, with its {@code top} most likely. */
    static TokenLogprob of(float[] logits, int offset, int vocab, int token, int top) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, logits[offset + i]);
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += Math.exp(logits[offset + i] - max);
        double logSum = max + Math.log(sum);
        int[] topTokens = mostLikely(logits, offset, vocab, Math.min(top, vocab));
        double[] topLogprobs = new double[topTokens.length];
        for (int i = 0; i < topTokens.length; i++) topLogprobs[i] = logits[offset + topTokens[i]] - logSum;
        return new TokenLogprob(token, logits[offset + token] - logSum, topTokens, topLogprobs);
    }

    /** The {@code k} largest entries of the row, largest first; on a tie the lower index first. */
    private static int[] mostLikely(float[] logits, int offset, int vocab, int k) {
        int[] best = new int[k];
        if (k == 0) return best;
        int count = 0;
        for (int i = 0; i < vocab; i++) {
            float value = logits[offset + i];
            if (count == k && value <= logits[offset + best[k - 1]]) continue;
            int at = Math.min(count, k - 1);
            while (at > 0 && value > logits[offset + best[at - 1]]) {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = i;
            if (count < k) count++;
        }
        return best;
    }
}
