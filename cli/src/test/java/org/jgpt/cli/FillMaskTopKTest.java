package org.jgpt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * fill-mask's top k by a bounded heap gives what sorting the whole vocabulary gave: the same ids in the same order,
 * ties to the smaller id, on random probabilities drawn from a few values so that ties are common.
 */
class FillMaskTopKTest {
    /** The full sort that fill-mask used before: every id by falling probability, ties by id. */
    private static int[] sortedTopK(double[] p, int k) {
        return IntStream.range(0, p.length).boxed()
                .sorted((a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b))
                .limit(k).mapToInt(Integer::intValue).toArray();
    }

    @Test
    void heapSelectionEqualsTheFullSortTiesIncluded() {
        SplittableRandom random = new SplittableRandom(11);
        for (int trial = 0; trial < 300; trial++) {
            int vocab = 1 + random.nextInt(400);
            int distinct = 1 + random.nextInt(trial % 2 == 0 ? 8 : 1000);
            double[] p = new double[vocab];
            for (int i = 0; i < vocab; i++) p[i] = random.nextInt(distinct) / (double) distinct;
            for (int k : new int[] {1, 2, 5, 1 + random.nextInt(vocab), vocab}) {
                if (k > vocab) continue;
                assertArrayEquals(sortedTopK(p, k), FillMaskCommand.best(p, k), "vocab " + vocab + ", k " + k);
            }
        }
    }
}
