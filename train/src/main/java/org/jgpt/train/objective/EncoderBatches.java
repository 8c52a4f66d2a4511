package org.jgpt.train.objective;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.jgpt.tokenizer.RobertaTokens;
import org.jgpt.train.BatchLoader;
import org.jgpt.train.TokenDataset;

/**
 * Framed rows for a bidirectional encoder, drawn from a prepared corpus whose documents are separated by one token:
 * windows of running text for masked language modelling, and pairs of segments for sentence-order (ALBERT) or
 * next-sentence (BERT) prediction.
 *
 * <p>Batch {@code index} depends only on (seed, index), never on what was drawn before, as {@link BatchLoader}'s
 * windows do, so a resumed run reads exactly the batches an uninterrupted one would.
 *
 * <p>A pair is cut from one document at a split point: A is up to {@code (seqLen - 4) / 2} tokens before it, B as
 * many after it. A split point leaves at least 8 tokens on each side (fewer if rows are too short for two segments of
 * 8), so only documents of twice that many tokens give pairs. The point is drawn uniformly among all such points of
 * the corpus, so a document is drawn in proportion to its length, and a long one is not undersampled.
 */
public final class EncoderBatches {
    /** The pair objectives. */
    public enum PairTask {
        /** ALBERT's sentence-order prediction: label 1 when A and B are swapped. */
        SENTENCE_ORDER,
        /** BERT's next-sentence prediction: label 1 when B comes from another document. */
        NEXT_SENTENCE
    }

    /** The fewest tokens a pair's segment may have, when rows leave room for that many. */
    private static final int MIN_SEGMENT = 8;
    private static final int SCAN_CHUNK = 1 << 16;

    private final TokenDataset data;
    private final RobertaTokens special;
    private final int separator;
    private final int batch;
    private final int seqLen;
    private final long seed;
    private final int window;
    private final int segment;
    private final int minSegment;
    private final Documents documents;

    /**
     * {@code separator} is the token between documents ({@code GPT2Tokenizer.documentSeparator()} of the corpus's
     * tokenizer). The documents are indexed here, in one pass over the dataset.
     */
    public EncoderBatches(TokenDataset data, RobertaTokens special, int separator, int batch, int seqLen, long seed) {
        if (batch < 1) throw new IllegalArgumentException("batch size must be positive: " + batch);
        if (seqLen < 6) {
            throw new IllegalArgumentException("rows of " + seqLen + " tokens leave no room for a pair: "
                    + "<s> A </s></s> B </s> needs 6");
        }
        if (data.size() < seqLen - 2) {
            throw new IllegalArgumentException("the dataset has " + data.size() + " tokens, fewer than one window of "
                    + (seqLen - 2));
        }
        this.data = data;
        this.special = special;
        this.separator = separator;
        this.batch = batch;
        this.seqLen = seqLen;
        this.seed = seed;
        this.window = seqLen - 2;
        this.segment = (seqLen - 4) / 2;
        this.minSegment = Math.min(MIN_SEGMENT, segment);
        this.documents = new Documents(data, separator, 2 * minSegment);
    }

    /**
     * Fills {@code inputs} ([batch × seqLen]) with batch {@code index} of random windows: {@code <s>}, seqLen - 2
     * consecutive tokens of the corpus, {@code </s>}. A document separator inside a window is written as {@code </s>}.
     * {@code lengths} is seqLen for every row.
     */
    public void windows(long index, int[] inputs, int[] lengths) {
        long positions = data.size() - window + 1;
        for (int row = 0; row < batch; row++) {
            fillWindow(row, Math.floorMod(BatchLoader.mix(seed, index * batch + row), positions), inputs, lengths);
        }
    }

    /** Number of whole, non-overlapping batches that {@link #sequentialWindows} can give. */
    public long sequentialBatches() {
        return data.size() / ((long) batch * window);
    }

    /** Fills batch {@code index} of windows that read the dataset in order, one after the other: for validation. */
    public void sequentialWindows(long index, int[] inputs, int[] lengths) {
        for (int row = 0; row < batch; row++) fillWindow(row, (index * batch + row) * window, inputs, lengths);
    }

    private void fillWindow(int row, long start, int[] inputs, int[] lengths) {
        int at = row * seqLen;
        inputs[at] = special.bos();
        data.read(start, inputs, at + 1, window);
        for (int i = at + 1; i <= at + window; i++) if (inputs[i] == separator) inputs[i] = special.eos();
        inputs[at + seqLen - 1] = special.eos();
        lengths[row] = seqLen;
    }

    /**
     * Fills batch {@code index} of random pairs: each row {@code <s> A </s></s> B </s>}, then {@code <pad>} up to
     * seqLen; {@code lengths} gets each row's length without the padding and {@code pairLabels} its label (see
     * {@link PairTask}), 1 for half the rows on average. An IllegalArgumentException when no document is long enough
     * for a pair (or, for next-sentence pairs, when fewer than two are).
     */
    public void pairs(PairTask task, long index, int[] inputs, int[] lengths, int[] pairLabels) {
        requirePairs(task);
        SplittableRandom random = new SplittableRandom(BatchLoader.mix(seed, index));
        for (int row = 0; row < batch; row++) {
            long point = random.nextLong(documents.splitPoints());
            int doc = documents.ofSplitPoint(point);
            long split = documents.start(doc) + minSegment + (point - documents.firstSplitPoint(doc));
            fillPair(task, row, doc, split, random, inputs, lengths, pairLabels);
        }
    }

    /** Number of batches that {@link #sequentialPairs} can give: one pair from each document long enough for one. */
    public long sequentialPairBatches() {
        return documents.count() / batch;
    }

    /**
     * Fills batch {@code index} of pairs cut in the middle of the documents long enough, in corpus order: row j of
     * all the batches is document j. The labels are drawn as in {@link #pairs}. For validation.
     */
    public void sequentialPairs(PairTask task, long index, int[] inputs, int[] lengths, int[] pairLabels) {
        requirePairs(task);
        SplittableRandom random = new SplittableRandom(BatchLoader.mix(seed, index));
        for (int row = 0; row < batch; row++) {
            int doc = Math.toIntExact(index * batch + row);
            long split = documents.start(doc) + documents.length(doc) / 2;
            fillPair(task, row, doc, split, random, inputs, lengths, pairLabels);
        }
    }

    private void requirePairs(PairTask task) {
        if (documents.count() == 0) {
            throw new IllegalArgumentException("no document of the corpus is long enough for two segments of "
                    + minSegment + " tokens: the longest has " + documents.longestSeen() + " tokens");
        }
        if (task == PairTask.NEXT_SENTENCE && documents.count() < 2) {
            throw new IllegalArgumentException("next-sentence pairs need two documents long enough for two segments of "
                    + minSegment + " tokens; the corpus has one");
        }
    }

    /**
     * A and B around the split point of document {@code doc}. A next-sentence B is no longer than the second longest
     * document, so that another document always has a B of the same length to replace it with; a B's length thus
     * never tells whether it is random.
     */
    private void fillPair(PairTask task, int row, int doc, long split, SplittableRandom random, int[] inputs,
                          int[] lengths, int[] pairLabels) {
        long aStart = Math.max(documents.start(doc), split - segment);
        int bLimit = task == PairTask.NEXT_SENTENCE ? (int) Math.min(segment, documents.secondLongest()) : segment;
        int bLength = (int) Math.min(bLimit, documents.end(doc) - split);
        int aLength = (int) (split - aStart);
        boolean flipped = random.nextBoolean();
        pairLabels[row] = flipped ? 1 : 0;
        if (task == PairTask.SENTENCE_ORDER) {
            if (flipped) writePair(row, split, bLength, aStart, aLength, inputs, lengths);
            else writePair(row, aStart, aLength, split, bLength, inputs, lengths);
        } else {
            long bStart = flipped ? documents.segmentElsewhere(doc, bLength, random) : split;
            writePair(row, aStart, aLength, bStart, bLength, inputs, lengths);
        }
    }

    private void writePair(int row, long firstStart, int firstLength, long secondStart, int secondLength, int[] inputs,
                           int[] lengths) {
        int at = row * seqLen;
        inputs[at] = special.bos();
        data.read(firstStart, inputs, at + 1, firstLength);
        int middle = at + 1 + firstLength;
        inputs[middle] = special.eos();
        inputs[middle + 1] = special.eos();
        data.read(secondStart, inputs, middle + 2, secondLength);
        inputs[middle + 2 + secondLength] = special.eos();
        int length = firstLength + secondLength + 4;
        Arrays.fill(inputs, at + length, at + seqLen, special.pad());
        lengths[row] = length;
    }

    /** The documents of at least {@code minLength} tokens: where they are, and their split points counted up. */
    private static final class Documents {
        private final long[] starts;
        private final long[] ends;
        private final long[] firstSplitPoints;
        private final long longestSeen;
        /** Document numbers from shortest to longest, the lengths in that order, and each document's place in it. */
        private final int[] byLength;
        private final long[] sortedLengths;
        private final int[] lengthRank;

        Documents(TokenDataset data, int separator, int minLength) {
            LongStream.Builder separators = LongStream.builder();
            int[] chunk = new int[SCAN_CHUNK];
            for (long at = 0; at < data.size(); at += SCAN_CHUNK) {
                int count = (int) Math.min(SCAN_CHUNK, data.size() - at);
                data.read(at, chunk, 0, count);
                for (int i = 0; i < count; i++) if (chunk[i] == separator) separators.add(at + i);
            }
            separators.add(data.size()); // the end of the data closes the last document as a separator would
            LongStream.Builder starts = LongStream.builder();
            LongStream.Builder ends = LongStream.builder();
            long longest = 0;
            long start = 0;
            for (long end : separators.build().toArray()) {
                longest = Math.max(longest, end - start);
                if (end - start >= minLength) {
                    starts.add(start);
                    ends.add(end);
                }
                start = end + 1;
            }
            this.starts = starts.build().toArray();
            this.ends = ends.build().toArray();
            this.longestSeen = longest;
            this.firstSplitPoints = new long[this.starts.length + 1];
            for (int d = 0; d < this.starts.length; d++) {
                firstSplitPoints[d + 1] = firstSplitPoints[d] + length(d) - minLength + 1;
            }
            this.byLength = IntStream.range(0, this.starts.length).boxed()
                    .sorted((a, b) -> Long.compare(length(a), length(b))).mapToInt(Integer::intValue).toArray();
            this.sortedLengths = Arrays.stream(byLength).mapToLong(this::length).toArray();
            this.lengthRank = new int[byLength.length];
            for (int rank = 0; rank < byLength.length; rank++) lengthRank[byLength[rank]] = rank;
        }

        int count() {
            return starts.length;
        }

        long start(int doc) {
            return starts[doc];
        }

        long end(int doc) {
            return ends[doc];
        }

        long length(int doc) {
            return ends[doc] - starts[doc];
        }

        /** The longest document of the corpus, long enough or not, for error messages. */
        long longestSeen() {
            return longestSeen;
        }

        long secondLongest() {
            return sortedLengths[sortedLengths.length - 2];
        }

        /** How many split points the documents have: positions that leave minLength / 2 tokens on either side. */
        long splitPoints() {
            return firstSplitPoints[starts.length];
        }

        long firstSplitPoint(int doc) {
            return firstSplitPoints[doc];
        }

        /** The document whose split points hold number {@code point} of {@link #splitPoints()}. */
        int ofSplitPoint(long point) {
            // Every document has a split point, so the array rises strictly: a hit is a document's first point.
            int found = Arrays.binarySearch(firstSplitPoints, point);
            return found >= 0 ? found : -found - 2;
        }

        /**
         * The start of {@code length} consecutive tokens of a document other than {@code doc}: a document drawn
         * uniformly among the others that are long enough (as BERT draws a random document), then a start in it.
         */
        long segmentElsewhere(int doc, int length, SplittableRandom random) {
            int fits = firstAtLeast(length);
            int rank = fits + random.nextInt(byLength.length - fits - 1);
            if (rank >= lengthRank[doc]) rank++;
            int other = byLength[rank];
            return starts[other] + random.nextLong(length(other) - length + 1);
        }

        /** The first rank, in length order, of a document of at least {@code length} tokens. */
        private int firstAtLeast(long length) {
            int low = 0;
            int high = sortedLengths.length;
            while (low < high) {
                int middle = (low + high) >>> 1;
                if (sortedLengths[middle] < length) low = middle + 1;
                else high = middle;
            }
            return low;
        }
    }
}
