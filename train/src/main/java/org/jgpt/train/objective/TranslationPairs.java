package org.jgpt.train.objective;

import java.util.Arrays;
import org.jgpt.tokenizer.RobertaTokens;

/**
 * Rows for XLM's translation language modelling in RoBERTa's framing: a sentence and its translation as
 * {@code <s> a </s></s> b </s>}, then {@code <pad>} to the row's end. The first segment is {@code <s> a </s>}, the
 * second {@code </s> b </s>}. Each segment has its language's token type, and its positions count from its own start
 * (from pad + 1, as RoBERTa numbers them), so that the second segment's restart as XLM's do. Padding has type 0 and
 * position pad, and lies past the row's length, beyond which attention never looks.
 */
public final class TranslationPairs {
    /** A pair of token sequences (without framing) cut to fit a row. */
    public record Pair(int[] first, int[] second) {
        /** The row position where the second segment begins: its {@code </s>}. */
        public int secondStart() {
            return first.length + 2;
        }

        /** The framed length. */
        public int length() {
            return first.length + second.length + 4;
        }
    }

    private final RobertaTokens special;
    private final int seqLen;

    public TranslationPairs(RobertaTokens special, int seqLen) {
        if (seqLen < 4) throw new IllegalArgumentException("rows of " + seqLen + " tokens leave no room for <s></s></s></s>");
        this.special = special;
        this.seqLen = seqLen;
    }

    /**
     * The pair cut to fit a row: while it is too long, the longer side loses its last token (the second on a tie),
     * as Hugging Face's longest_first truncation does.
     */
    public Pair fit(int[] first, int[] second) {
        int a = first.length, b = second.length;
        while (a + b + 4 > seqLen) {
            if (a > b) a--;
            else b--;
        }
        return new Pair(Arrays.copyOf(first, a), Arrays.copyOf(second, b));
    }

    /**
     * Writes {@code pair} into row {@code row} of {@code inputs}, {@code typeIds} and {@code positionIds} ([batch ×
     * seqLen] each), the first segment in language {@code firstLanguage} and the second in {@code secondLanguage}, and
     * its framed length into {@code lengths[row]}.
     */
    public void write(int row, Pair pair, int firstLanguage, int secondLanguage, int[] inputs, int[] typeIds,
                      int[] positionIds, int[] lengths) {
        if (pair.length() > seqLen) throw new IllegalArgumentException("a pair of " + pair.length() + " tokens exceeds rows of " + seqLen);
        int at = row * seqLen;
        int[] framed = special.frame(pair.first(), pair.second());
        System.arraycopy(framed, 0, inputs, at, framed.length);
        Arrays.fill(inputs, at + framed.length, at + seqLen, special.pad());
        int second = pair.secondStart();
        for (int t = 0; t < seqLen; t++) {
            boolean padding = t >= framed.length;
            typeIds[at + t] = padding ? 0 : t < second ? firstLanguage : secondLanguage;
            positionIds[at + t] = padding ? special.pad() : special.pad() + 1 + (t < second ? t : t - second);
        }
        lengths[row] = framed.length;
    }
}
