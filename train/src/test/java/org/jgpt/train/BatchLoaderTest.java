package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Random windows that depend on (seed, index) alone, across shard boundaries. */
class BatchLoaderTest {
    @TempDir
    Path dir;
    private TokenDataset data;

    @BeforeEach
    void twoShardsCountingUp() throws IOException {
        int[] first = new int[700];
        int[] second = new int[500];
        for (int i = 0; i < first.length; i++) first[i] = i;
        for (int i = 0; i < second.length; i++) second[i] = 700 + i;
        TokenShard.write(dir.resolve("train_000000.bin"), first, first.length);
        TokenShard.write(dir.resolve("train_000001.bin"), second, second.length);
        Files.writeString(dir.resolve("manifest.json"), """
                {"vocab_size": 50257, "train": [{"file": "train_000000.bin", "tokens": 700},
                 {"file": "train_000001.bin", "tokens": 500}], "val": []}""");
        data = TokenDataset.open(dir, "train");
    }

    @Test
    void windowsAreContiguousAndTargetsAreShiftedInputs() {
        var loader = new BatchLoader(data, 4, 64, 1234);
        int[] x = new int[4 * 64];
        int[] y = new int[4 * 64];
        for (long step = 0; step < 50; step++) {
            loader.randomBatch(step, x, y);
            for (int b = 0; b < 4; b++) {
                for (int t = 0; t < 64; t++) {
                    assertEquals(x[b * 64] + t, x[b * 64 + t], "the stream counts up, across the shard boundary too");
                    assertEquals(x[b * 64 + t] + 1, y[b * 64 + t]);
                }
            }
        }
    }

    @Test
    void batchesDependOnlyOnSeedAndIndex() {
        int[] a = new int[256], ay = new int[256], b = new int[256], by = new int[256];
        var one = new BatchLoader(data, 4, 64, 7);
        var other = new BatchLoader(data, 4, 64, 7);
        one.randomBatch(3, a, ay);
        other.randomBatch(0, b, by);
        other.randomBatch(3, b, by);
        assertArrayEquals(a, b);
        one.randomBatch(4, b, by);
        assertFalse(Arrays.equals(a, b));
        new BatchLoader(data, 4, 64, 8).randomBatch(3, b, by);
        assertFalse(Arrays.equals(a, b));
    }

    @Test
    void sequentialBatchesReadTheStreamInOrder() {
        var loader = new BatchLoader(data, 2, 100, 0);
        assertEquals(5, loader.sequentialBatches());
        int[] x = new int[200], y = new int[200];
        loader.sequentialBatch(4, x, y);
        assertEquals(800, x[0]);
        assertEquals(999, x[199]);
        assertEquals(1000, y[199]);
    }
}
