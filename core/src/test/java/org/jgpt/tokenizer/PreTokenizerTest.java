package org.jgpt.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The hand-written pre-tokenizer splits text exactly as GPT-2's pattern does in java.util.regex (as jtokkit runs it). */
class PreTokenizerTest {
    private static final Pattern GPT2_PATTERN = Pattern.compile(
            "'(?:[sdmt]|ll|ve|re)| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", Pattern.UNICODE_CHARACTER_CLASS);

    private static List<String> byRegex(String text) {
        List<String> pieces = new ArrayList<>();
        Matcher m = GPT2_PATTERN.matcher(text);
        while (m.find()) pieces.add(m.group());
        return pieces;
    }

    private static List<String> byPreTokenizer(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        List<String> pieces = new ArrayList<>();
        for (int pos = 0; pos < bytes.length; ) {
            int end = PreTokenizer.nextPiece(bytes, pos, bytes.length);
            pieces.add(new String(bytes, pos, end - pos, StandardCharsets.UTF_8));
            pos = end;
        }
        return pieces;
    }

    @Test
    void handPickedCases() {
        for (String text : new String[] {"don't", "DON'T", "'s'S 'll", "a  b", "a\t\tb", "x   ", " \n\n y", "?!'s", "1,000",
                "\u00A0\u00A0x", "\u3000x", "e\u0301t\u00e9", "x''s", "   'll"}) {
            assertEquals(byRegex(text), byPreTokenizer(text), () -> MixedText.escape(text));
        }
    }

    @Test
    void generatedTextSplitsLikeTheRegex() {
        Random random = new Random(99);
        for (int i = 0; i < 10_000; i++) {
            String text = MixedText.generate(random, 1 + random.nextInt(30));
            assertEquals(byRegex(text), byPreTokenizer(text), () -> MixedText.escape(text));
        }
    }

    @Test
    void everyCodePointHasTheRegexClass() {
        Pattern letter = Pattern.compile("\\p{L}", Pattern.UNICODE_CHARACTER_CLASS);
        Pattern number = Pattern.compile("\\p{N}", Pattern.UNICODE_CHARACTER_CLASS);
        Pattern space = Pattern.compile("\\s", Pattern.UNICODE_CHARACTER_CLASS);
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (Character.getType(cp) == Character.SURROGATE) continue;
            String s = Character.toString(cp);
            int expected = letter.matcher(s).matches() ? PreTokenizer.LETTER : number.matcher(s).matches() ? PreTokenizer.NUMBER
                    : space.matcher(s).matches() ? PreTokenizer.SPACE : PreTokenizer.OTHER;
            assertEquals(expected, PreTokenizer.classify(cp), "U+" + Integer.toHexString(cp));
        }
    }
}
