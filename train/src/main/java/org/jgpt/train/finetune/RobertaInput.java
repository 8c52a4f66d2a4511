package org.jgpt.train.finetune;

import java.util.List;
import org.jgpt.tokenizer.RobertaTokens;

/**
 * RoBERTa's framing of an example for an encoder, as Hugging Face's tokenizer builds it: one text as
 * {@code <s> a </s>}, two as {@code <s> a </s></s> b </s>}. A sequence longer than {@code maxLength} loses tokens from
 * the end of its longest text (longest first, as {@link InputTransform}), so the special tokens always stay.
 */
public record RobertaInput(RobertaTokens tokens, int maxLength) {
    public RobertaInput {
        if (maxLength < 4) throw new IllegalArgumentException("maximum sequence length " + maxLength + " leaves no room for text");
    }

    /** The framed sequence of one or two tokenized texts, and whether it was truncated. */
    public InputTransform.Sequences apply(List<int[]> texts) {
        if (texts.isEmpty() || texts.size() > 2) {
            throw new IllegalArgumentException("an encoder's input is one or two texts, not " + texts.size());
        }
        int[][] parts = texts.toArray(new int[0][]);
        // two special tokens a text: <s> a </s>, or <s> a </s></s> b </s>
        boolean truncated = InputTransform.truncateLongestFirst(parts, maxLength - 2 * parts.length);
        int[] framed = parts.length == 1 ? tokens.frame(parts[0]) : tokens.frame(parts[0], parts[1]);
        return new InputTransform.Sequences(new int[][] {framed}, truncated);
    }
}
