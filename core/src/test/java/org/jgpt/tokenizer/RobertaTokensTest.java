package org.jgpt.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** RoBERTa's special tokens: looked up in a vocabulary, framing, and each kind of vocabulary's document separator. */
class RobertaTokensTest {
    private static final GPT2Tokenizer ROBERTA = BpeTrainer.train(List.of("the cat sat on the mat".getBytes(
            StandardCharsets.UTF_8)), 270, BpeTrainer.SpecialTokens.ROBERTA, null);

    @Test
    void aGpt2VocabularyHasNoMaskAndTheMessageSaysWhatToDo() {
        var e = assertThrows(IllegalArgumentException.class, () -> RobertaTokens.of(GPT2Tokenizer.gpt2()));
        assertTrue(e.getMessage().contains("no <s> token") && e.getMessage().contains("jgpt tokenizer train --roberta"),
                e.getMessage());
    }

    @Test
    void framesOneSequenceOrAPairAsRobertaDoes() {
        RobertaTokens special = RobertaTokens.of(ROBERTA);
        assertArrayEquals(new int[] {0, 10, 11, 2}, special.frame(new int[] {10, 11}));
        assertArrayEquals(new int[] {0, 10, 2, 2, 20, 21, 2}, special.frame(new int[] {10}, new int[] {20, 21}));
        assertArrayEquals(new int[] {0, 2, 2, 2}, special.frame(new int[0], new int[0]));
        for (int id = 0; id < 270; id++) {
            assertEquals(id < 4 || id == 269, special.isSpecial(id), "id " + id);
            assertEquals(special.isSpecial(id), ROBERTA.isSpecial(id), "id " + id);
        }
    }

    @Test
    void documentsAreSeparatedByEndOfTextElseByEndOfSequence() {
        assertEquals(50256, GPT2Tokenizer.gpt2().documentSeparator());
        assertEquals(2, ROBERTA.documentSeparator());
        byte[][] bytesOnly = new byte[256][];
        for (int b = 0; b < 256; b++) bytesOnly[b] = new byte[] {(byte) b};
        GPT2Tokenizer neither = new GPT2Tokenizer(bytesOnly, new int[0], new int[0], Map.of());
        var e = assertThrows(IllegalStateException.class, neither::documentSeparator);
        assertEquals("the vocabulary has neither <|endoftext|> nor </s> to separate documents with", e.getMessage());
        assertFalse(neither.isSpecial(0));
    }
}
