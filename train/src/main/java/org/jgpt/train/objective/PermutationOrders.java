package org.jgpt.train.objective;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntPredicate;

/**
 * XLNet's factorisation orders with partial prediction, built as Hugging Face's
 * DataCollatorForPermutationLanguageModeling builds them (plm_probability 1/6, max_span_length 5): along each
 * sequence, a span of 1..5 tokens is drawn, then a context of span × 6 tokens in which the span starts at a random
 * offset; the spans' tokens are predicted (about 1/6 of them: K = 6) and come last in the order. The order: position
 * i and i + T/2 share a draw of a shuffle of 0..T/2-1 (i's rank is its draw, i + T/2's its draw + T/2), and every
 * token not predicted gets rank -1 (context: seen by all, seeing no predicted token).
 *
 * <p>One difference from the collator: it gives its special tokens and padding a random rank, which lets them see
 * predicted tokens before them; that is harmless there because it replaces predicted tokens by {@code <mask>} in the
 * input, but here the content stream holds them (as XLNet's), so every token not predicted is context.
 */
public final class PermutationOrders {
    public static final int CONTEXT_PER_SPAN_TOKEN = 6; // 1 / plm_probability
    public static final int MAX_SPAN_LENGTH = 5;

    private final IntPredicate functional;
    private final int seqLen;

    /** {@code functional}: the special tokens, never predicted (as the collator's special-tokens mask). */
    public PermutationOrders(IntPredicate functional, int seqLen) {
        if (seqLen < 2 || seqLen % 2 != 0) {
            throw new IllegalArgumentException("plm needs an even sequence length (the order pairs position i with"
                    + " i + T/2, as Hugging Face's permutation collator), got " + seqLen);
        }
        this.functional = functional;
        this.seqLen = seqLen;
    }

    /** The collator's spans over {@code seqLen} positions, as {start, length}; they may run past the end. */
    static List<int[]> spans(int seqLen, SplittableRandom random) {
        List<int[]> spans = new ArrayList<>();
        for (int covered = 0; covered < seqLen; ) {
            int span = 1 + random.nextInt(MAX_SPAN_LENGTH);
            int context = span * CONTEXT_PER_SPAN_TOKEN;
            spans.add(new int[] {covered + random.nextInt(context - span + 1), span});
            covered += context;
        }
        return spans;
    }

    /**
     * For each of {@code batch} sequences of {@code inputs} ([batch × seqLen], sequence b with {@code lengths[b]}
     * tokens): {@code labels} the token at each predicted position, else -100; {@code ranks} the order as
     * {@link org.jgpt.train.PermutationEncoder} reads it. A function of {@code seed}.
     */
    public void draw(int[] inputs, int[] lengths, int[] labels, int[] ranks, int batch, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int half = seqLen / 2;
        int[] shuffle = new int[half];
        for (int b = 0; b < batch; b++) {
            int base = b * seqLen;
            Arrays.fill(labels, base, base + seqLen, -100);
            Arrays.fill(ranks, base, base + seqLen, -1);
            boolean[] predicted = new boolean[seqLen];
            for (int[] span : spans(seqLen, random)) {
                for (int t = span[0]; t < Math.min(span[0] + span[1], seqLen); t++) predicted[t] = true;
            }
            for (int i = 0; i < half; i++) shuffle[i] = i;
            for (int i = half - 1; i > 0; i--) { // Fisher–Yates, as torch.randperm
                int j = random.nextInt(i + 1);
                int swap = shuffle[i];
                shuffle[i] = shuffle[j];
                shuffle[j] = swap;
            }
            for (int t = 0; t < lengths[b]; t++) {
                if (!predicted[t] || functional.test(inputs[base + t])) continue;
                labels[base + t] = inputs[base + t];
                ranks[base + t] = t < half ? shuffle[t] : shuffle[t - half] + half;
            }
        }
    }
}
