package org.jgpt.train;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Records drawn in batches without replacement, a new order each epoch: a Fisher-Yates shuffle seeded by (seed,
 * epoch), so batch {@code index} depends on nothing drawn before it and a resumed run reads the same batches. The
 * epoch's last records that do not fill a batch wait for the next one.
 */
final class EpochOrder {
    private final int records;
    private final long seed;
    private long cachedEpoch = -1;
    private int[] cachedOrder;

    EpochOrder(int records, long seed) {
        this.records = records;
        this.seed = seed;
    }

    /** The record numbers of batch {@code index} of {@code size} records. */
    int[] batch(long index, int size) {
        long perEpoch = records / size;
        int[] order = order(index / perEpoch);
        int first = (int) (index % perEpoch) * size;
        return Arrays.copyOfRange(order, first, first + size);
    }

    private int[] order(long epoch) {
        if (epoch != cachedEpoch) {
            int[] order = new int[records];
            for (int i = 0; i < order.length; i++) order[i] = i;
            SplittableRandom random = new SplittableRandom(BatchLoader.mix(seed, epoch));
            for (int i = order.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int swap = order[i];
                order[i] = order[j];
                order[j] = swap;
            }
            cachedOrder = order;
            cachedEpoch = epoch;
        }
        return cachedOrder;
    }
}
