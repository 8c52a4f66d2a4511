package org.jgpt.tokenizer;

/**
 * GPT-2's pre-tokenization, {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+},
 * written by hand over UTF-8 bytes instead of with java.util.regex: it is several times faster, and it takes any
 * byte string. A byte that is not part of well-formed UTF-8 counts as one "other" character (neither letter,
 * number nor space), so merges never join it with a letter. {@code \s} is Unicode's White_Space property, as in
 * tiktoken and in Java's {@code UNICODE_CHARACTER_CLASS}.
 */
final class PreTokenizer {
    static final int SPACE = 0;
    static final int LETTER = 1;
    static final int NUMBER = 2;
    static final int OTHER = 3;

    /** Class of each BMP character; supplementary ones are classified on the fly. */
    private static final byte[] BMP_CLASS = new byte[0x10000];

    static {
        for (int c = 0; c < BMP_CLASS.length; c++) BMP_CLASS[c] = (byte) classify(c);
    }

    private PreTokenizer() {}

    static int classify(int codePoint) {
        int type = Character.getType(codePoint);
        if (Character.isLetter(codePoint)) return LETTER;
        if (type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER || type == Character.OTHER_NUMBER) {
            return NUMBER;
        }
        boolean whiteSpace = type == Character.SPACE_SEPARATOR || type == Character.LINE_SEPARATOR
                || type == Character.PARAGRAPH_SEPARATOR || (codePoint >= 0x9 && codePoint <= 0xD) || codePoint == 0x85;
        return whiteSpace ? SPACE : OTHER;
    }

    /** The end of the piece that starts at {@code pos}; requires {@code pos < end}. */
    static int nextPiece(byte[] text, int pos, int end) {
        byte first = text[pos];
        if (first == '\'' && pos + 1 < end) {
            int length = contraction(text, pos, end);
            if (length > 0) return pos + length;
        }
        if (first == ' ' && pos + 1 < end) {
            int next = charAt(text, pos + 1, end);
            if (next >>> 3 != SPACE) return run(text, pos + 1 + (next & 7), end, next >>> 3);
        }
        int info = charAt(text, pos, end);
        if (info >>> 3 != SPACE) return run(text, pos + (info & 7), end, info >>> 3);
        // A whitespace run leaves its last character to the next piece when a non-space follows (\s+(?!\S)).
        int last = pos;
        int p = pos;
        while (p < end) {
            int c = charAt(text, p, end);
            if (c >>> 3 != SPACE) return last > pos ? last : p;
            last = p;
            p += c & 7;
        }
        return end;
    }

    private static int contraction(byte[] text, int pos, int end) {
        byte a = text[pos + 1];
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
        if (pos + 2 < end) {
            byte b = text[pos + 2];
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
        }
        return 0;
    }

    private static int run(byte[] text, int p, int end, int cls) {
        while (p < end) {
            int c = charAt(text, p, end);
            if (c >>> 3 != cls) break;
            p += c & 7;
        }
        return p;
    }

    /** The class and length of the character at {@code p}, packed as {@code class << 3 | length}. */
    static int charAt(byte[] text, int p, int end) {
        int b0 = text[p] & 0xFF;
        if (b0 < 0x80) return BMP_CLASS[b0] << 3 | 1;
        int invalid = OTHER << 3 | 1;
        if (b0 < 0xC2) return invalid;
        if (b0 < 0xE0) {
            if (p + 1 >= end || !continuation(text[p + 1])) return invalid;
            return BMP_CLASS[(b0 & 0x1F) << 6 | (text[p + 1] & 0x3F)] << 3 | 2;
        }
        if (b0 < 0xF0) {
            if (p + 2 >= end || !continuation(text[p + 2])) return invalid;
            int b1 = text[p + 1] & 0xFF;
            int low = b0 == 0xE0 ? 0xA0 : 0x80;   // no overlong forms
            int high = b0 == 0xED ? 0x9F : 0xBF;  // no surrogates
            if (b1 < low || b1 > high) return invalid;
            return BMP_CLASS[(b0 & 0x0F) << 12 | (b1 & 0x3F) << 6 | (text[p + 2] & 0x3F)] << 3 | 3;
        }
        if (b0 < 0xF5) {
            if (p + 3 >= end || !continuation(text[p + 2]) || !continuation(text[p + 3])) return invalid;
            int b1 = text[p + 1] & 0xFF;
            int low = b0 == 0xF0 ? 0x90 : 0x80;
            int high = b0 == 0xF4 ? 0x8F : 0xBF;
            if (b1 < low || b1 > high) return invalid;
            int codePoint = (b0 & 0x07) << 18 | (b1 & 0x3F) << 12 | (text[p + 2] & 0x3F) << 6 | (text[p + 3] & 0x3F);
            return classify(codePoint) << 3 | 4;
        }
        return invalid;
    }

    private static boolean continuation(byte b) {
        return (b & 0xC0) == 0x80;
    }
}
