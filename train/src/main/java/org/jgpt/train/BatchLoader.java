package org.jgpt.train;

/**
 * Draws training windows of {@code seqLen + 1} tokens at random positions of a dataset.
 *
 * <p>The windows of batch {@code index} depend only on (seed, index), never on what was drawn before, so the loader
 * has no state: resuming at step s reads exactly the batches an uninterrupted run would have read.
 */
public final class BatchLoader {
    private final TokenDataset data;
    private final int batchSize;
    private final int seqLen;
    private final long seed;
    private final int[] window;

    public BatchLoader(TokenDataset data, int batchSize, int seqLen, long seed) {
        if (data.size() <= seqLen) {
            throw new IllegalArgumentException("the dataset has " + data.size() + " tokens, fewer than one window of "
                    + (seqLen + 1));
        }
        this.data = data;
        this.batchSize = batchSize;
        this.seqLen = seqLen;
        this.seed = seed;
        this.window = new int[seqLen + 1];
    }

    /** Fills {@code inputs} and {@code targets} ([batchSize × seqLen]) with batch number {@code index}. */
    public void randomBatch(long index, int[] inputs, int[] targets) {
        long positions = data.size() - seqLen;
        for (int b = 0; b < batchSize; b++) {
            long start = Math.floorMod(mix(seed, index * batchSize + b), positions);
            fill(start, b, inputs, targets);
        }
    }

    /** Number of whole, non-overlapping batches that {@link #sequentialBatch} can give. */
    public long sequentialBatches() {
        return (data.size() - 1) / ((long) batchSize * seqLen);
    }

    /** Fills batch {@code index} of the dataset read in order, window after window: for validation. */
    public void sequentialBatch(long index, int[] inputs, int[] targets) {
        for (int b = 0; b < batchSize; b++) fill((index * batchSize + b) * seqLen, b, inputs, targets);
    }

    private void fill(long start, int row, int[] inputs, int[] targets) {
        data.read(start, window, 0, seqLen + 1);
        System.arraycopy(window, 0, inputs, row * seqLen, seqLen);
        System.arraycopy(window, 1, targets, row * seqLen, seqLen);
    }

    /** SplitMix64's finaliser over (seed, n): a well-mixed, stateless random long. Shared by every batch source. */
    public static long mix(long seed, long n) {
        long z = seed + (n + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
