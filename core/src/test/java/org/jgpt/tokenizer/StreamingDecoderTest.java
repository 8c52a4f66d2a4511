package org.jgpt.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The streaming decoder emits whole characters only, and in all gives the same text as decode. */
class StreamingDecoderTest {
    private static final GPT2Tokenizer GPT2 = GPT2Tokenizer.gpt2();

    @Test
    void emitsOnlyCompleteCharacters() {
        String text = "Thumbs 👍🏽, family 👨‍👩‍👧‍👦, 漢字 and हिन्दी.";
        int[] ids = GPT2.encode(text);
        StreamingDecoder decoder = GPT2.newStreamingDecoder();
        StringBuilder out = new StringBuilder();
        int empty = 0;
        for (int id : ids) {
            String piece = decoder.push(id);
            assertFalse(piece.contains("\uFFFD"), () -> "emitted a broken character after id " + id);
            if (piece.isEmpty()) empty++;
            out.append(piece);
        }
        out.append(decoder.flush());
        assertEquals(text, out.toString());
        assertTrue(empty > 0, "the emoji span several tokens, so some pushes should emit nothing");
    }

    @Test
    void randomIdsGiveTheSameTextAsDecode() {
        Random random = new Random(11);
        for (int round = 0; round < 2_000; round++) {
            int[] ids = new int[random.nextInt(12)];
            for (int i = 0; i < ids.length; i++) ids[i] = random.nextInt(GPT2.vocabSize());
            StreamingDecoder decoder = GPT2.newStreamingDecoder();
            StringBuilder out = new StringBuilder();
            for (int id : ids) out.append(decoder.push(id));
            out.append(decoder.flush());
            assertEquals(GPT2.decode(ids), out.toString(), () -> "ids " + java.util.Arrays.toString(ids));
        }
    }
}
