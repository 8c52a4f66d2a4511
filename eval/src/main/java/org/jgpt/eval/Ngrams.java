package org.jgpt.eval;

import java.util.function.LongConsumer;

/**
 * The GPT-2 paper's 8-gram keys of a text, fed to it in chunks of any size: the text is normalised to lower-case
 * alphanumeric words separated by single spaces (every other character is a word break), and each run of 8
 * consecutive words becomes one 64-bit key. N-grams never span {@link #endDocument()}.
 */
public final class Ngrams {
    public static final int N = 8;
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private final LongConsumer sink;
    private final long[] window = new long[N];
    private long words;
    private long wordHash = FNV_OFFSET;
    private boolean inWord;
    private int pendingHigh = -1;

    /** @param sink receives the key of every 8-gram, in order */
    public Ngrams(LongConsumer sink) {
        this.sink = sink;
    }

    public void accept(char[] chars, int offset, int length) {
        for (int i = offset; i < offset + length; i++) accept(chars[i]);
    }

    public void accept(CharSequence text) {
        for (int i = 0; i < text.length(); i++) accept(text.charAt(i));
    }

    /** One UTF-16 unit: a surrogate pair is joined even when its halves come in different chunks. */
    private void accept(char c) {
        if (pendingHigh >= 0) {
            int high = pendingHigh;
            pendingHigh = -1;
            if (Character.isLowSurrogate(c)) {
                codePoint(Character.toCodePoint((char) high, c));
                return;
            }
            codePoint(high);
        }
        if (Character.isHighSurrogate(c)) {
            pendingHigh = c;
        } else {
            codePoint(c);
        }
    }

    private void codePoint(int cp) {
        if (Character.isLetterOrDigit(cp)) {
            int lower = Character.toLowerCase(cp);
            wordHash = (wordHash ^ lower) * FNV_PRIME;
            inWord = true;
        } else {
            endWord();
        }
    }

    private void endWord() {
        if (!inWord) return;
        window[(int) (words % N)] = wordHash;
        words++;
        wordHash = FNV_OFFSET;
        inWord = false;
        if (words >= N) sink.accept(key());
    }

    /** The 8 words of the window, oldest first, folded into one well-mixed key. */
    private long key() {
        long key = 0;
        for (int i = 0; i < N; i++) key = BloomFilter.mix(key * 0x9e3779b97f4a7c15L + window[(int) ((words + i) % N)]);
        return key;
    }

    /** Ends the current document: its last word is counted, and the next n-gram starts afresh. */
    public void endDocument() {
        if (pendingHigh >= 0) {
            codePoint(pendingHigh);
            pendingHigh = -1;
        }
        endWord();
        words = 0;
    }

    /** The normalised text, for tests and for showing what the keys are made of. */
    public static String normalize(String text) {
        StringBuilder out = new StringBuilder();
        boolean inWord = false;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isLetterOrDigit(cp)) {
                if (!inWord && !out.isEmpty()) out.append(' ');
                out.appendCodePoint(Character.toLowerCase(cp));
                inWord = true;
            } else {
                inWord = false;
            }
        }
        return out.toString();
    }
}
