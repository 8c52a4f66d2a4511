package org.jgpt.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Checks that jgpt's ids equal tiktoken's r50k_base (GPT-2) through jtokkit, the independent reference, and that
 * decoding gives back the exact bytes.
 */
class TokenizerParityTest {
    private static final Encoding R50K = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
    private static final GPT2Tokenizer GPT2 = GPT2Tokenizer.gpt2();

    private static void assertParity(String text, String what) {
        int[] expected = R50K.encodeOrdinary(text).toArray();
        int[] actual = GPT2.encode(text);
        assertArrayEquals(expected, actual, () -> "ids differ from jtokkit r50k_base for " + what);
        assertEquals(text, GPT2.decode(actual), () -> "decode(encode(text)) differs for " + what);
    }

    @Test
    void everyStateOfTheUnionAddressMatchesJtokkit() {
        List<Path> files = Corpora.files("sotu");
        assertTrue(files.size() >= 230, "expected the 233 SOTU addresses, found " + files.size());
        for (Path file : files) assertParity(new String(Corpora.bytes(file), StandardCharsets.UTF_8), file.toString());
    }

    @Test
    void mobyDickMatchesJtokkit() {
        Path file = Corpora.root().resolve("moby-dick.txt");
        assertParity(new String(Corpora.bytes(file), StandardCharsets.UTF_8), file.toString());
    }

    @Test
    void spamAssassinMailsMatchJtokkitAndRoundTripTheirRawBytes() {
        List<Path> files = Corpora.files("spam-assassin");
        assertTrue(files.size() >= 500, "expected at least 500 mails, found " + files.size());
        for (Path file : files) {
            byte[] raw = Corpora.bytes(file);
            // jtokkit takes text only: compare on the mail decoded as UTF-8 with U+FFFD for bad bytes.
            assertParity(new String(raw, StandardCharsets.UTF_8), file.toString());
            assertArrayEquals(raw, GPT2.decodeBytes(GPT2.encode(raw)), () -> "raw bytes of " + file + " do not round-trip");
        }
    }

    @Test
    void tenThousandGeneratedStringsMatchJtokkit() {
        Random random = new Random(20261123);
        for (int i = 0; i < 10_000; i++) {
            String text = MixedText.generate(random, 1 + random.nextInt(40));
            assertParity(text, "generated string #" + i + " " + MixedText.escape(text));
        }
    }

    @Test
    void longPiecesMatchJtokkit() {
        // Pieces longer than 128 bytes take the heap-based merge path.
        Random random = new Random(5);
        for (int i = 0; i < 200; i++) {
            int length = 100 + random.nextInt(3000);
            StringBuilder sb = new StringBuilder(" ");
            String alphabet = switch (i % 4) {
                case 0 -> "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
                case 1 -> "aab";
                case 2 -> "0123456789";
                default -> "漢字한국어éü";
            };
            for (int k = 0; k < length; k++) sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
            assertParity(sb.toString(), "long piece #" + i);
        }
        assertParity("a".repeat(20_000) + " " + "=".repeat(5_000) + "\n".repeat(3_000), "runs of one character");
    }

    @Test
    void randomByteStringsRoundTripExactly() {
        Random random = new Random(7);
        for (int i = 0; i < 5_000; i++) {
            byte[] bytes = new byte[random.nextInt(64)];
            random.nextBytes(bytes);
            if (i % 2 == 0) {
                // Half of them: mostly valid UTF-8 with some bytes broken, cut or swapped.
                byte[] text = MixedText.generate(random, 8).getBytes(StandardCharsets.UTF_8);
                for (int k = 0; k < 3 && text.length > 0; k++) text[random.nextInt(text.length)] = bytes.length > 0 ? bytes[0] : (byte) 0xC3;
                bytes = text;
            }
            byte[] input = bytes;
            assertArrayEquals(input, GPT2.decodeBytes(GPT2.encode(input)), () -> "bytes do not round-trip: " + java.util.HexFormat.of().formatHex(input));
        }
    }
}
