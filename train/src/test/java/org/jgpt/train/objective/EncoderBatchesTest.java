package org.jgpt.train.objective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.jgpt.tokenizer.RobertaTokens;
import org.jgpt.train.TokenDataset;
import org.jgpt.train.TokenShard;
import org.jgpt.train.objective.EncoderBatches.PairTask;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Encoder batches over corpora written in the test, laid out as jgpt prepare does (a separator before each document).
 * The token at corpus position p is {@code FIRST + p}, so every token in a row tells where it was read from.
 */
class EncoderBatchesTest {
    private static final RobertaTokens SPECIAL = new RobertaTokens(0, 1, 2, 3, 4);
    /** The first text token; ids below are special tokens or GPT-2's stand-in separator. */
    private static final int FIRST = 100;
    private static final int END_OF_TEXT = 5;
    private static final int BATCH = 8;
    private static final int SEQ = 64;
    private static final int SEGMENT = (SEQ - 4) / 2;

    @TempDir
    Path dir;
    private final List<TokenDataset> opened = new ArrayList<>();
    /** For each corpus position, its document's number, or -1 at a separator. */
    private int[] documentOf;
    private long[] documentStart;
    private long[] documentEnd;

    @AfterEach
    void close() {
        opened.forEach(TokenDataset::close);
    }

    /** Documents of the given lengths, each after a separator, in two shards. */
    private TokenDataset corpus(int separator, int... lengths) throws IOException {
        int size = Arrays.stream(lengths).sum() + lengths.length;
        int[] tokens = new int[size];
        documentOf = new int[size];
        documentStart = new long[lengths.length];
        documentEnd = new long[lengths.length];
        int at = 0;
        for (int doc = 0; doc < lengths.length; doc++) {
            documentOf[at] = -1;
            tokens[at] = separator;
            at++;
            documentStart[doc] = at;
            for (int i = 0; i < lengths[doc]; i++, at++) {
                documentOf[at] = doc;
                tokens[at] = FIRST + at;
            }
            documentEnd[doc] = at;
        }
        Path corpus = Files.createTempDirectory(dir, "corpus");
        int half = size / 2;
        TokenShard.write(corpus.resolve("train_000000.bin"), tokens, half);
        TokenShard.write(corpus.resolve("train_000001.bin"), Arrays.copyOfRange(tokens, half, size), size - half);
        Files.writeString(corpus.resolve("manifest.json"), """
                {"vocab_size": 65536, "train": [{"file": "train_000000.bin", "tokens": %d},
                 {"file": "train_000001.bin", "tokens": %d}], "val": []}""".formatted(half, size - half));
        TokenDataset data = TokenDataset.open(corpus, "train");
        opened.add(data);
        return data;
    }

    /** 150 documents of 1 to 300 tokens: a few too short for a pair of 8-token segments. */
    private TokenDataset mixedCorpus(int separator) throws IOException {
        Random random = new Random(11);
        int[] lengths = new int[150];
        for (int d = 0; d < lengths.length; d++) lengths[d] = 1 + random.nextInt(300);
        return corpus(separator, lengths);
    }

    @Test
    void windowsAreRunsOfTheCorpusFramedWithSeparatorsAsEndOfSequence() throws IOException {
        TokenDataset data = mixedCorpus(END_OF_TEXT);
        var batches = new EncoderBatches(data, SPECIAL, END_OF_TEXT, BATCH, SEQ, 3);
        int[] inputs = new int[BATCH * SEQ];
        int[] lengths = new int[BATCH];
        int separatorsSeen = 0;
        for (long index = 0; index < 50; index++) {
            batches.windows(index, inputs, lengths);
            for (int row = 0; row < BATCH; row++) {
                int at = row * SEQ;
                assertEquals(SEQ, lengths[row]);
                assertEquals(SPECIAL.bos(), inputs[at]);
                assertEquals(SPECIAL.eos(), inputs[at + SEQ - 1]);
                // The first text token says where the window starts; a separator has no such number, so find it.
                long start = inputs[at + 1] >= FIRST ? inputs[at + 1] - FIRST : inputs[at + 2] - FIRST - 1;
                for (int i = 1; i < SEQ - 1; i++) {
                    long position = start + i - 1;
                    if (documentOf[(int) position] < 0) {
                        assertEquals(SPECIAL.eos(), inputs[at + i], "a separator becomes </s>");
                        separatorsSeen++;
                    } else {
                        assertEquals(FIRST + position, inputs[at + i], "row " + row + " position " + i);
                    }
                }
            }
        }
        assertTrue(separatorsSeen > 0, "windows cross documents");
    }

    @Test
    void sequentialWindowsReadTheCorpusInOrder() throws IOException {
        TokenDataset data = mixedCorpus(SPECIAL.eos());
        var batches = new EncoderBatches(data, SPECIAL, SPECIAL.eos(), BATCH, SEQ, 3);
        assertEquals(data.size() / (BATCH * (SEQ - 2)), batches.sequentialBatches());
        int[] inputs = new int[BATCH * SEQ];
        int[] lengths = new int[BATCH];
        long last = batches.sequentialBatches() - 1;
        batches.sequentialWindows(last, inputs, lengths);
        long lastStart = (last * BATCH + BATCH - 1) * (SEQ - 2);
        int[] expected = new int[SEQ - 2];
        data.read(lastStart, expected, 0, SEQ - 2);
        assertArrayEquals(expected, Arrays.copyOfRange(inputs, (BATCH - 1) * SEQ + 1, BATCH * SEQ - 1));
    }

    @Test
    void batchesDependOnlyOnSeedAndIndex() throws IOException {
        TokenDataset data = mixedCorpus(SPECIAL.eos());
        int[] first = drawAll(new EncoderBatches(data, SPECIAL, SPECIAL.eos(), BATCH, SEQ, 7), 3);
        var busy = new EncoderBatches(data, SPECIAL, SPECIAL.eos(), BATCH, SEQ, 7);
        drawAll(busy, 0);
        drawAll(busy, 9);
        assertArrayEquals(first, drawAll(busy, 3), "batch 3 is the same whatever was drawn before");
        assertFalse(Arrays.equals(first, drawAll(busy, 4)), "batch 4 differs from batch 3");
        assertFalse(Arrays.equals(first, drawAll(new EncoderBatches(data, SPECIAL, SPECIAL.eos(), BATCH, SEQ, 8), 3)),
                "another seed gives another batch 3");
    }

    /** Batch {@code index} of every kind, one after the other in one array. */
    private static int[] drawAll(EncoderBatches batches, long index) {
        int[] all = new int[3 * BATCH * (SEQ + 2)];
        int[] inputs = new int[BATCH * SEQ];
        int[] lengths = new int[BATCH];
        int[] labels = new int[BATCH];
        int at = 0;
        for (int kind = 0; kind < 3; kind++) {
            if (kind == 0) batches.windows(index, inputs, lengths);
            else batches.pairs(PairTask.values()[kind - 1], index, inputs, lengths, labels);
            for (int[] part : List.of(inputs, lengths, labels)) {
                System.arraycopy(part, 0, all, at, part.length);
                at += part.length;
            }
        }
        return all;
    }

    /** One row of pairs read back: the corpus positions [start, end) of its first and second segment. */
    private record Pair(long firstStart, long firstEnd, long secondStart, long secondEnd, int label) {}

    /** Checks the row's framing exactly and that each segment is consecutive tokens of one document. */
    private Pair readPair(int[] inputs, int row, int length, int label) {
        int at = row * SEQ;
        assertEquals(SPECIAL.bos(), inputs[at]);
        int firstEnd = at + 1;
        while (inputs[firstEnd] != SPECIAL.eos()) firstEnd++;
        assertEquals(SPECIAL.eos(), inputs[firstEnd + 1], "</s></s> between the segments");
        assertEquals(SPECIAL.eos(), inputs[at + length - 1], "</s> last");
        for (int i = at + length; i < at + SEQ; i++) assertEquals(SPECIAL.pad(), inputs[i], "padding after the length");
        int[] first = Arrays.copyOfRange(inputs, at + 1, firstEnd);
        int[] second = Arrays.copyOfRange(inputs, firstEnd + 2, at + length - 1);
        for (int[] segment : List.of(first, second)) {
            assertTrue(segment.length >= 8 && segment.length <= SEGMENT, "a segment of " + segment.length + " tokens");
            int doc = documentOf[segment[0] - FIRST];
            for (int i = 0; i < segment.length; i++) {
                assertEquals(segment[0] + i, segment[i], "consecutive tokens");
                assertEquals(doc, documentOf[segment[i] - FIRST], "one document");
            }
            long docLength = documentEnd[doc] - documentStart[doc];
            assertTrue(docLength >= 16, "a pair from a document of " + docLength + " tokens");
        }
        return new Pair(first[0] - FIRST, first[first.length - 1] - FIRST + 1, second[0] - FIRST,
                second[second.length - 1] - FIRST + 1, label);
    }

    /** Rows of many random pair batches, read back. */
    private List<Pair> drawPairs(EncoderBatches batches, PairTask task, int count) {
        List<Pair> pairs = new ArrayList<>();
        int[] inputs = new int[BATCH * SEQ];
        int[] lengths = new int[BATCH];
        int[] labels = new int[BATCH];
        for (long index = 0; index < count; index++) {
            batches.pairs(task, index, inputs, lengths, labels);
            for (int row = 0; row < BATCH; row++) pairs.add(readPair(inputs, row, lengths[row], labels[row]));
        }
        return pairs;
    }

    /** Half the labels are 1: a binomial count within 5 standard deviations (a false failure once in 1.7 million). */
    private static void assertHalfAreOne(List<Pair> pairs) {
        long ones = pairs.stream().filter(p -> p.label == 1).count();
        assertEquals(pairs.size() / 2.0, ones, 5 * Math.sqrt(pairs.size() / 4.0), ones + " of " + pairs.size());
    }

    @Test
    void sentenceOrderSwapsTwoConsecutiveSegmentsOfOneDocumentHalfTheTime() throws IOException {
        var batches = new EncoderBatches(mixedCorpus(SPECIAL.eos()), SPECIAL, SPECIAL.eos(), BATCH, SEQ, 5);
        List<Pair> pairs = drawPairs(batches, PairTask.SENTENCE_ORDER, 200);
        for (Pair pair : pairs) {
            if (pair.label == 0) assertEquals(pair.firstEnd, pair.secondStart, "A then B, as in the document");
            else assertEquals(pair.secondEnd, pair.firstStart, "B then A: the document's two segments swapped");
            assertEquals(documentOf[(int) pair.firstStart], documentOf[(int) pair.secondStart]);
        }
        assertHalfAreOne(pairs);
    }

    @Test
    void nextSentenceTakesARandomBOfTheSameLengthFromAnotherDocumentHalfTheTime() throws IOException {
        var batches = new EncoderBatches(mixedCorpus(SPECIAL.eos()), SPECIAL, SPECIAL.eos(), BATCH, SEQ, 5);
        List<Pair> pairs = drawPairs(batches, PairTask.NEXT_SENTENCE, 200);
        for (Pair pair : pairs) {
            int doc = documentOf[(int) pair.firstStart];
            // The true B starts right after A and runs for a segment or to the end of the document.
            long trueLength = Math.min(SEGMENT, documentEnd[doc] - pair.firstEnd);
            assertEquals(trueLength, pair.secondEnd - pair.secondStart, "B has the true B's length");
            if (pair.label == 0) assertEquals(pair.firstEnd, pair.secondStart, "B follows A");
            else assertNotEquals(doc, documentOf[(int) pair.secondStart], "a random B comes from another document");
        }
        assertHalfAreOne(pairs);
    }

    @Test
    void nextSentenceBIsNoLongerThanTheSecondLongestDocument() throws IOException {
        // Only document 0 is longer than 20 tokens: a random B of more could come from no other document.
        var batches = new EncoderBatches(corpus(SPECIAL.eos(), 200, 20, 20, 20), SPECIAL, SPECIAL.eos(), BATCH, SEQ, 1);
        List<Pair> pairs = drawPairs(batches, PairTask.NEXT_SENTENCE, 50);
        for (Pair pair : pairs) {
            assertTrue(pair.secondEnd - pair.secondStart <= 20, "B of " + (pair.secondEnd - pair.secondStart));
        }
        assertTrue(pairs.stream().anyMatch(p -> p.label == 1 && documentOf[(int) p.firstStart] == 0),
                "document 0's pairs get random Bs too");
        List<Pair> ordered = drawPairs(batches, PairTask.SENTENCE_ORDER, 50);
        assertTrue(ordered.stream().anyMatch(p -> p.secondEnd - p.secondStart > 20),
                "sentence-order segments are not capped");
    }

    @Test
    void sequentialPairsCutEachLongEnoughDocumentInTheMiddleInOrder() throws IOException {
        TokenDataset data = corpus(SPECIAL.eos(), 40, 10, 100, 16, 15, 50);
        var batches = new EncoderBatches(data, SPECIAL, SPECIAL.eos(), 2, SEQ, 1);
        assertEquals(2, batches.sequentialPairBatches(), "documents of 16 tokens or more: 40, 100, 16 and 50");
        int[] inputs = new int[2 * SEQ];
        int[] lengths = new int[2];
        int[] labels = new int[2];
        int[] expectedDocument = {0, 2, 3, 5};
        for (int index = 0; index < 2; index++) {
            batches.sequentialPairs(PairTask.SENTENCE_ORDER, index, inputs, lengths, labels);
            for (int row = 0; row < 2; row++) {
                Pair pair = readPair(inputs, row, lengths[row], labels[row]);
                int doc = expectedDocument[2 * index + row];
                long middle = (documentStart[doc] + documentEnd[doc]) / 2;
                assertEquals(doc, documentOf[(int) pair.firstStart]);
                assertEquals(middle, pair.label == 0 ? pair.firstEnd : pair.secondEnd, "split in the middle");
            }
        }
    }

    @Test
    void aCorpusOfShortDocumentsGivesWindowsButNoPairs() throws IOException {
        TokenDataset data = corpus(SPECIAL.eos(), 15, 12, 15, 9, 15);
        var batches = new EncoderBatches(data, SPECIAL, SPECIAL.eos(), BATCH, 32, 1);
        int[] inputs = new int[BATCH * 32];
        int[] lengths = new int[BATCH];
        batches.windows(0, inputs, lengths);
        var e = assertThrows(IllegalArgumentException.class,
                () -> batches.pairs(PairTask.SENTENCE_ORDER, 0, inputs, lengths, new int[BATCH]));
        assertEquals("no document of the corpus is long enough for two segments of 8 tokens: the longest has 15 tokens",
                e.getMessage());

        var one = new EncoderBatches(corpus(SPECIAL.eos(), 15, 100, 15), SPECIAL, SPECIAL.eos(), BATCH, 32, 1);
        one.pairs(PairTask.SENTENCE_ORDER, 0, inputs, lengths, new int[BATCH]);
        var single = assertThrows(IllegalArgumentException.class,
                () -> one.pairs(PairTask.NEXT_SENTENCE, 0, inputs, lengths, new int[BATCH]));
        assertTrue(single.getMessage().contains("need two documents"), single.getMessage());
    }
}
