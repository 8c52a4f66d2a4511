package org.jgpt.train.finetune;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * GPT-1's task input transformations (Radford et al. 2018, figure 1): each example becomes one or more token
 * sequences framed by the start token {@code s}, split by the delimiter {@code $} and ended by the extract token
 * {@code e}, three ids added to the vocabulary for fine-tuning.
 *
 * <p>A sequence longer than {@code maxLength} is truncated, not rejected: tokens are cut from the end of its longest
 * text until it fits, so the frame tokens, and the extract token the head reads, always stay.
 */
public record InputTransform(int start, int delimiter, int extract, int maxLength) {
    public InputTransform {
        if (maxLength < 4) throw new IllegalArgumentException("maximum sequence length " + maxLength + " leaves no room for text");
    }

    /** The special tokens appended to a vocabulary of {@code vocabSize}: start, delimiter, extract. */
    public static InputTransform appendedTo(int vocabSize, int maxLength) {
        return new InputTransform(vocabSize, vocabSize + 1, vocabSize + 2, maxLength);
    }

    /** The sequences of one example and whether any was truncated. */
    public record Sequences(int[][] sequences, boolean truncated) {}

    /** {@code texts} are the example's tokenized fields in {@link Task#fields()} order (CHOICE: context, answers...). */
    public Sequences apply(Task task, List<int[]> texts) {
        List<int[][]> framed = new ArrayList<>();
        switch (task) {
            case CLASSIFICATION -> framed.add(new int[][] {texts.get(0)});
            case ENTAILMENT -> framed.add(new int[][] {texts.get(0), texts.get(1)});
            case SIMILARITY -> {
                framed.add(new int[][] {texts.get(0), texts.get(1)});
                framed.add(new int[][] {texts.get(1), texts.get(0)});
            }
            case CHOICE -> {
                for (int k = 1; k < texts.size(); k++) framed.add(new int[][] {texts.get(0), texts.get(k)});
            }
        }
        int[][] out = new int[framed.size()][];
        boolean truncated = false;
        for (int i = 0; i < out.length; i++) {
            int[][] parts = framed.get(i);
            truncated |= truncateLongestFirst(parts, maxLength - parts.length - 1); // s, one $ between parts, e
            out[i] = frame(parts);
        }
        return new Sequences(out, truncated);
    }

    /**
     * Shortens the longest part, token by token from its end, until the parts hold at most {@code budget} tokens
     * together; true if it cut. Shared with {@link RobertaInput}, whose frame tokens differ.
     */
    static boolean truncateLongestFirst(int[][] parts, int budget) {
        int total = 0;
        for (int[] p : parts) total += p.length;
        boolean cut = false;
        while (total > budget) {
            int longest = 0;
            for (int i = 1; i < parts.length; i++) if (parts[i].length > parts[longest].length) longest = i;
            int excess = total - budget;
            int keep = Math.max(parts[longest].length - excess, secondLongest(parts, longest));
            if (keep == parts[longest].length) keep--;
            total -= parts[longest].length - keep;
            parts[longest] = Arrays.copyOf(parts[longest], keep);
            cut = true;
        }
        return cut;
    }

    private static int secondLongest(int[][] parts, int longest) {
        int best = 0;
        for (int i = 0; i < parts.length; i++) if (i != longest) best = Math.max(best, parts[i].length);
        return best;
    }

    private int[] frame(int[][] parts) {
        int length = parts.length + 1;
        for (int[] p : parts) length += p.length;
        int[] seq = new int[length];
        int at = 0;
        seq[at++] = start;
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) seq[at++] = delimiter;
            System.arraycopy(parts[i], 0, seq, at, parts[i].length);
            at += parts[i].length;
        }
        seq[at] = extract;
        return seq;
    }
}
