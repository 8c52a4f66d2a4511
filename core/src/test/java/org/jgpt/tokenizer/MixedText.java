package org.jgpt.tokenizer;

import java.util.Random;

/** Seeded random text that mixes scripts, emoji, combining marks, odd whitespace, numbers, code and contractions. */
final class MixedText {
    private static final String[] FRAGMENTS = {
            "hello", "World", "GPT", "don't", "I'M", "we'LL", "they'Re", "it's", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d",
            "'S", "'T", "'RE", "'Ve", "'D", "O'Neil", "rock'n'roll", "''", "'", "\"quoted\"",
            "漢字", "日本語のテキスト", "中文", "مرحبا بالعالم", "السلام", "हिन्दी", "नमस्ते", "한국어", "안녕하세요",
            "Ελληνικά", "Привет", "naïve", "café", "e\u0301", "a\u0308\u0323", "\u0301", "ﬁ", "ß",
            "👍", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇺🇸", "😀😃", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𠀀",
            " ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r\n\r\n", "\u00A0", "\u3000", "\u2028", "\u2029",
            "\u2003", "\u0085", "\u000B", "\f", " \t ", "\u200B", "\uFEFF",
            "0", "42", "3.14159", "1,000,000", "٣٤٥", "१२३", "½", "²", "Ⅻ", "2026-11-23",
            ".", ",", "!", "?", "...", "—", "–", "(", ")", "[]", "{}", "<|endoftext|>", "<", "|", "$", "€", "%", "#", "@",
            "https://example.com/path?q=1&r=two#frag", "user@example.org", "C:\\Users\\x", "/usr/bin/env",
            "int main() { return 0; }", "for (int i = 0; i < n; i++)", "x+=1", "a_b", "__init__", "->", "=>", "!==",
    };

    private MixedText() {}

    static String generate(Random random, int fragments) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fragments; i++) {
            int pick = random.nextInt(10);
            if (pick == 0) {
                sb.appendCodePoint(randomCodePoint(random));
            } else {
                if (pick < 4) sb.append(' ');
                sb.append(FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
            }
        }
        return sb.toString();
    }

    /** Any assigned code point that is not a surrogate, weighted towards the BMP. */
    private static int randomCodePoint(Random random) {
        while (true) {
            int cp = random.nextInt(4) == 0 ? random.nextInt(0x110000) : random.nextInt(0x10000);
            if (Character.isDefined(cp) && Character.getType(cp) != Character.SURROGATE) return cp;
        }
    }

    static String escape(String text) {
        StringBuilder sb = new StringBuilder();
        text.codePoints().forEach(cp -> {
            if (cp >= 0x20 && cp < 0x7F) sb.appendCodePoint(cp);
            else sb.append(String.format("\\u{%X}", cp));
        });
        return sb.toString();
    }
}
