package org.jgpt.train.objective;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.RobertaTokens;

/**
 * Corrupts framed rows of tokens for masked-language-model training, and labels the positions the loss is taken on.
 *
 * <p>Three ways to choose what to corrupt ({@link Kind}); special tokens ({@code <s>}, {@code </s>}, {@code <pad>},
 * any other special token of the vocabulary) are never chosen. A chosen token becomes {@code <mask>} 80% of the time,
 * a random non-special token 10%, and stays as it is 10%, so that the model cannot tell from the input alone which
 * tokens it is asked about (BERT's recipe); other shares may be given ({@link Replacement}).
 *
 * <p>A word is a run of tokens that starts at a token beginning with a space (byte-level BPE's word start), or at the
 * first token after a special token, and ends before the next such start or special token. Other whitespace, such as a
 * newline, does not start a word: the word then runs on across it.
 *
 * <p>The result depends only on the seed and the inputs, so a resumed run corrupts its batches as an uninterrupted run
 * would. Instances hold no per-call state and may be shared between threads.
 */
public final class Masking {
    /** How the corrupted tokens are chosen. */
    public enum Kind {
        /** BERT's and RoBERTa's masking ({@code mlm}): each token on its own, with probability {@code rate}. */
        TOKENS,
        /** Google BERT's whole-word masking ({@code wwm}): whole words, in random order, up to a budget per row. */
        WHOLE_WORDS,
        /** SpanBERT's span masking ({@code span}): runs of whole words of geometric length, up to a budget per row. */
        SPANS
    }

    /**
     * What a chosen token becomes: {@code <mask>} with probability {@code mask}, a random non-special token with
     * probability {@code random}, else itself.
     */
    public record Replacement(double mask, double random) {
        /** BERT's: 80% {@code <mask>}, 10% a random token, 10% unchanged. */
        public static final Replacement BERT = new Replacement(0.8, 0.1);
        /** ELECTRA's generator input: 85% {@code <mask>}, 15% unchanged, none random. */
        public static final Replacement ELECTRA = new Replacement(0.85, 0);
        /** Every chosen token a random one, drawn uniformly from the non-special tokens (rtd-random). */
        public static final Replacement RANDOM = new Replacement(0, 1);

        public Replacement {
            if (mask < 0 || random < 0 || mask + random > 1) {
                throw new IllegalArgumentException("replacement shares must be non-negative and sum to at most 1: " + mask + ", " + random);
            }
        }
    }

    /** The label of a position the loss skips (PyTorch's and Hugging Face's convention). */
    public static final int IGNORED = -100;

    /** SpanBERT's span lengths in words: geometric with p = 0.2, renormalised over 1..10. */
    static final double SPAN_P = 0.2;
    static final int MAX_SPAN_WORDS = 10;
    private static final double SPAN_CDF_TOP = 1 - Math.pow(1 - SPAN_P, MAX_SPAN_WORDS);

    /**
     * Span attempts per word of a row before giving up short of the budget. Reaching it needs rates near 1, where
     * almost every drawn span overlaps a chosen one; at 40% about one attempt in ten succeeds even at the end.
     */
    private static final int ATTEMPTS_PER_WORD = 100;

    private final Kind kind;
    private final double rate;
    private final Replacement replacement;
    private final int mask;
    private final boolean[] special;
    private final boolean[] startsWord;
    private final int[] ordinary;

    /** {@code rate} is the share of each row's non-special tokens to corrupt, in (0, 1); BERT's replacement. */
    public Masking(Kind kind, double rate, RobertaTokens special, GPT2Tokenizer tokenizer) {
        this(kind, rate, Replacement.BERT, special, tokenizer);
    }

    /** {@code rate} is the share of each row's non-special tokens to corrupt, in (0, 1). */
    public Masking(Kind kind, double rate, Replacement replacement, RobertaTokens special, GPT2Tokenizer tokenizer) {
        if (!(rate > 0 && rate < 1)) throw new IllegalArgumentException("masking rate must be in (0, 1): " + rate);
        this.kind = kind;
        this.rate = rate;
        this.replacement = replacement;
        this.mask = special.mask();
        int vocabSize = tokenizer.vocabSize();
        this.special = new boolean[vocabSize];
        this.startsWord = new boolean[vocabSize];
        int[] ordinary = new int[vocabSize];
        int ordinaryCount = 0;
        for (int id = 0; id < vocabSize; id++) {
            byte[] bytes = bytesOf(tokenizer, id);
            this.special[id] = bytes == null || special.isSpecial(id) || tokenizer.isSpecial(id);
            if (this.special[id]) continue;
            startsWord[id] = bytes.length > 0 && bytes[0] == ' ';
            ordinary[ordinaryCount++] = id;
        }
        this.ordinary = Arrays.copyOf(ordinary, ordinaryCount);
    }

    /** The token's bytes, or null for an id the vocabulary skips (which is then treated as special: never chosen). */
    private static byte[] bytesOf(GPT2Tokenizer tokenizer, int id) {
        try {
            return tokenizer.tokenBytes(id);
        } catch (IllegalArgumentException unused) {
            return null;
        }
    }

    /**
     * Corrupts {@code inputs} ([batch × seqLen], row-major, framed) in place and sets {@code labels}: the original
     * token at every chosen position, {@link #IGNORED} elsewhere. The same seed and inputs give the same result.
     */
    public void apply(int[] inputs, int[] labels, int batch, int seqLen, long seed) {
        int size = batch * seqLen;
        if (inputs.length < size || labels.length < size) {
            throw new IllegalArgumentException("inputs and labels need " + batch + " × " + seqLen + " entries, have "
                    + inputs.length + " and " + labels.length);
        }
        Arrays.fill(labels, 0, size, IGNORED);
        SplittableRandom random = new SplittableRandom(seed);
        Words words = new Words(seqLen);
        for (int from = 0; from < size; from += seqLen) {
            switch (kind) {
                case TOKENS -> chooseTokens(inputs, labels, from, from + seqLen, random);
                case WHOLE_WORDS -> chooseWholeWords(inputs, labels, words.find(inputs, from, from + seqLen), random);
                case SPANS -> chooseSpans(inputs, labels, words.find(inputs, from, from + seqLen), random);
            }
        }
    }

    /** Each non-special token on its own with probability {@code rate}, as Hugging Face's collator does. */
    private void chooseTokens(int[] inputs, int[] labels, int from, int to, SplittableRandom random) {
        for (int i = from; i < to; i++) {
            if (!special[inputs[i]] && random.nextDouble() < rate) corrupt(inputs, labels, i, i + 1, random);
        }
    }

    /**
     * Whole words in random order, each taken if it does not carry the count past the row's budget, until the budget
     * is met (Google BERT's create_pretraining_data). A word is corrupted token by token.
     */
    private void chooseWholeWords(int[] inputs, int[] labels, Words words, SplittableRandom random) {
        int budget = budget(words.tokens());
        int[] order = new int[words.count];
        for (int w = 0; w < order.length; w++) order[w] = w;
        for (int w = order.length - 1; w > 0; w--) {
            int other = random.nextInt(w + 1);
            int swap = order[w];
            order[w] = order[other];
            order[other] = swap;
        }
        int chosen = 0;
        for (int k = 0; k < order.length && chosen < budget; k++) {
            int w = order[k];
            int length = words.ends[w] - words.starts[w];
            if (chosen + length > budget) continue;
            for (int i = words.starts[w]; i < words.ends[w]; i++) corrupt(inputs, labels, i, i + 1, random);
            chosen += length;
        }
    }

    /**
     * SpanBERT's spans: draw a length in words ({@link #spanLength}) and a random word to start at, and take that many
     * adjacent words, stopping early at a special token, at the row's end, or once the budget is met; a span that
     * would take an already chosen word is dropped. The last span keeps its last word whole, so a row may overshoot
     * its budget by less than one word (SpanBERT's code cuts that word instead). A span is corrupted as a whole.
     */
    private void chooseSpans(int[] inputs, int[] labels, Words words, SplittableRandom random) {
        if (words.count == 0) return;
        int budget = budget(words.tokens());
        boolean[] taken = new boolean[words.count];
        int chosen = 0;
        for (int attempt = 0; chosen < budget && attempt < ATTEMPTS_PER_WORD * words.count; attempt++) {
            int wanted = spanLength(random);
            int first = random.nextInt(words.count);
            int end = first;
            int tokens = 0;
            boolean overlaps = false;
            while (end < words.count && end - first < wanted && chosen + tokens < budget
                    && (end == first || words.starts[end] == words.ends[end - 1])) {
                if (taken[end]) {
                    overlaps = true;
                    break;
                }
                tokens += words.ends[end] - words.starts[end];
                end++;
            }
            if (overlaps) continue;
            Arrays.fill(taken, first, end, true);
            corrupt(inputs, labels, words.starts[first], words.ends[end - 1], random);
            chosen += tokens;
        }
    }

    /**
     * A span length in words, ℓ ≥ 1 with P(ℓ) ∝ (1 − p)^(ℓ − 1) p, renormalised over 1..10 as SpanBERT does. Drawn by
     * inverting its distribution function P(ℓ ≤ k) = (1 − q^k) / (1 − q^10), q = 1 − p: one uniform, no rejection.
     */
    static int spanLength(SplittableRandom random) {
        double below = random.nextDouble() * SPAN_CDF_TOP;
        int length = 1 + (int) (Math.log1p(-below) / Math.log1p(-SPAN_P));
        return Math.min(length, MAX_SPAN_WORDS); // rounding at the very top of the range could give 11
    }

    /** How many of a row's {@code tokens} non-special tokens the word and span kinds aim to choose: at least one. */
    private int budget(int tokens) {
        return Math.max(1, (int) Math.round(rate * tokens));
    }

    /**
     * Labels positions [from, to) with their tokens, then masks them all (80% with BERT's shares), replaces each by a
     * random non-special token (10%), or leaves them (10%): one decision for the whole range.
     */
    private void corrupt(int[] inputs, int[] labels, int from, int to, SplittableRandom random) {
        double choice = random.nextDouble();
        for (int i = from; i < to; i++) {
            labels[i] = inputs[i];
            if (choice < replacement.mask()) {
                inputs[i] = mask;
            } else if (choice < replacement.mask() + replacement.random()) {
                inputs[i] = ordinary[random.nextInt(ordinary.length)];
            }
        }
    }

    /** The words of one row: positions [starts[w], ends[w]) for w below count, in order. */
    private final class Words {
        final int[] starts;
        final int[] ends;
        int count;

        Words(int seqLen) {
            starts = new int[seqLen];
            ends = new int[seqLen];
        }

        Words find(int[] inputs, int from, int to) {
            count = 0;
            for (int i = from; i < to; i++) {
                if (special[inputs[i]]) continue;
                if (count == 0 || startsWord[inputs[i]] || special[inputs[i - 1]]) starts[count++] = i;
                ends[count - 1] = i + 1;
            }
            return this;
        }

        int tokens() {
            int tokens = 0;
            for (int w = 0; w < count; w++) tokens += ends[w] - starts[w];
            return tokens;
        }
    }
}
