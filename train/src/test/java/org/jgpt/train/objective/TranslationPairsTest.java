package org.jgpt.train.objective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.jgpt.model.EncoderConfig;
import org.jgpt.tokenizer.BpeTrainer;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.RobertaTokens;
import org.jgpt.train.TrainableEncoder;
import org.junit.jupiter.api.Test;

/**
 * tlm's rows: framing, language ids and positions switch exactly at the second segment's {@code </s>}; pairs too long
 * are cut longest side first; padding is never masked, and the encoder does not attend to it.
 */
class TranslationPairsTest {
    private static final RobertaTokens SPECIAL = new RobertaTokens(0, 1, 2, 3, 4);
    private static final int SEQ = 16;

    private static int[] ids(int count, int first) {
        return IntStream.range(first, first + count).toArray();
    }

    @Test
    void languageAndPositionsSwitchExactlyAtTheSecondSegment() {
        TranslationPairs rows = new TranslationPairs(SPECIAL, SEQ);
        int[] inputs = new int[2 * SEQ], types = new int[2 * SEQ], positions = new int[2 * SEQ], lengths = new int[2];
        rows.write(1, rows.fit(ids(3, 10), ids(5, 20)), 1, 0, inputs, types, positions, lengths);
        int[] row = Arrays.copyOfRange(inputs, SEQ, 2 * SEQ);
        assertArrayEquals(new int[] {0, 10, 11, 12, 2, 2, 20, 21, 22, 23, 24, 2, 1, 1, 1, 1}, row);
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, Arrays.copyOfRange(types, SEQ, 2 * SEQ));
        assertArrayEquals(new int[] {2, 3, 4, 5, 6, 2, 3, 4, 5, 6, 7, 8, 1, 1, 1, 1}, Arrays.copyOfRange(positions, SEQ, 2 * SEQ));
        assertEquals(12, lengths[1]);

        // every split: the second segment starts at its </s> with the first segment's first position
        for (int a = 0; a <= SEQ - 4; a++) {
            for (int b = 0; a + b + 4 <= SEQ; b++) {
                TranslationPairs.Pair pair = rows.fit(ids(a, 10), ids(b, 40));
                rows.write(0, pair, 0, 1, inputs, types, positions, lengths);
                int second = pair.secondStart();
                assertEquals(a + 2, second);
                assertEquals(a + b + 4, lengths[0]);
                for (int t = 0; t < SEQ; t++) {
                    boolean padding = t >= lengths[0];
                    int expectedType = padding || t < second ? 0 : 1;
                    int expectedPosition = padding ? 1 : 2 + (t < second ? t : t - second);
                    assertEquals(expectedType, types[t], "type at " + t + " of " + a + " + " + b);
                    assertEquals(expectedPosition, positions[t], "position at " + t + " of " + a + " + " + b);
                }
                assertEquals(2, inputs[second - 1]);
                assertEquals(2, inputs[second]);
            }
        }
    }

    @Test
    void longPairsAreCutLongestSideFirst() {
        TranslationPairs rows = new TranslationPairs(SPECIAL, 12); // room for 8 tokens
        TranslationPairs.Pair cut = rows.fit(ids(10, 100), ids(3, 200));
        assertArrayEquals(ids(5, 100), cut.first());
        assertArrayEquals(ids(3, 200), cut.second());
        TranslationPairs.Pair even = rows.fit(ids(6, 100), ids(5, 200)); // 6+5 -> 5+5 -> 5+4 (ties cut the second) -> 4+4
        assertArrayEquals(ids(4, 100), even.first());
        assertArrayEquals(ids(4, 200), even.second());
        TranslationPairs.Pair fits = rows.fit(ids(2, 100), ids(6, 200));
        assertEquals(12, fits.length());
    }

    @Test
    void paddingIsNeitherMaskedNorAttended() {
        GPT2Tokenizer tokenizer = BpeTrainer.train(List.of("a cat and a dog, un chat et un chien".getBytes()), 300,
                BpeTrainer.SpecialTokens.ROBERTA, null);
        RobertaTokens special = RobertaTokens.of(tokenizer);
        int batch = 4;
        TranslationPairs rows = new TranslationPairs(special, SEQ);
        int[] original = new int[batch * SEQ], types = new int[batch * SEQ], positions = new int[batch * SEQ];
        int[] lengths = new int[batch];
        Random random = new Random(1);
        for (int row = 0; row < batch; row++) {
            int[] a = random.ints(1 + row, 4, special.mask()).toArray(); // ordinary ids lie between <unk> and <mask>
            int[] b = random.ints(2 + row, 4, special.mask()).toArray();
            rows.write(row, rows.fit(a, b), 0, 1, original, types, positions, lengths);
        }
        Masking masking = new Masking(Masking.Kind.TOKENS, 0.9, special, tokenizer);
        int[] labels = new int[batch * SEQ];
        for (long seed = 1; seed <= 50; seed++) {
            int[] inputs = original.clone();
            masking.apply(inputs, labels, batch, SEQ, seed);
            for (int r = 0; r < batch * SEQ; r++) {
                if (r % SEQ >= lengths[r / SEQ]) {
                    assertEquals(special.pad(), inputs[r], "padding at " + r + " changed");
                    assertEquals(Masking.IGNORED, labels[r], "padding at " + r + " labelled");
                }
            }
        }

        EncoderConfig config = EncoderConfig.roberta(tokenizer.vocabSize(), SEQ, 16, 2, 2).withTypeVocabSize(2);
        TrainableEncoder model = new TrainableEncoder(config, TrainableEncoder.Heads.maskedLmOnly(), batch, SEQ, 0f);
        model.initialize(3);
        int[] inputs = original.clone();
        masking.apply(inputs, labels, batch, SEQ, 0);
        float loss = model.evaluate(inputs, lengths, new TrainableEncoder.Segments(types, positions), labels, null);
        float[] hidden = model.hidden().clone();
        // whatever fills the padding, tokens, languages and positions, nothing before it changes
        for (int r = 0; r < batch * SEQ; r++) {
            if (r % SEQ >= lengths[r / SEQ]) {
                inputs[r] = 4 + random.nextInt(special.mask() - 4);
                types[r] = 1;
                positions[r] = 2 + random.nextInt(SEQ);
            }
        }
        assertEquals(loss, model.evaluate(inputs, lengths, new TrainableEncoder.Segments(types, positions), labels, null));
        int c = config.hiddenSize();
        for (int r = 0; r < batch * SEQ; r++) {
            if (r % SEQ < lengths[r / SEQ]) {
                assertArrayEquals(Arrays.copyOfRange(hidden, r * c, (r + 1) * c),
                        Arrays.copyOfRange(model.hidden(), r * c, (r + 1) * c), "output at " + r);
            }
        }
        assertTrue(loss > 0);
    }
}
