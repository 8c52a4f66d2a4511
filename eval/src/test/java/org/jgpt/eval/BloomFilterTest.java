package org.jgpt.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Bloom filter on 8-grams of random words: no false negatives ever, and a measured false-positive rate over
 * 1M 8-grams never added that agrees with the design.
 */
class BloomFilterTest {
    private static final int PROBES = 1_000_000;

    @TempDir
    Path tmp;

    /** A text of {@code words} random 4-letter words: all its 8-grams are distinct with overwhelming probability. */
    private static String randomWords(SplittableRandom random, int words) {
        StringBuilder sb = new StringBuilder(words * 5);
        for (int i = 0; i < words; i++) {
            for (int c = 0; c < 4; c++) sb.append((char) ('a' + random.nextInt(26)));
            sb.append(' ');
        }
        return sb.toString();
    }

    @Test
    void noFalseNegativesAndAtMostTheDesignedFalsePositiveRate() {
        SplittableRandom random = new SplittableRandom(42);
        long[] training = Overlap.keys(randomWords(random, 200_007));
        BloomFilter filter = BloomFilter.forCapacity(training.length, 1e-8);
        for (long key : training) filter.add(key);
        for (long key : training) assertTrue(filter.mightContain(key), "a false negative");

        long[] unseen = Overlap.keys(randomWords(random, PROBES + 7));
        assertEquals(PROBES, unseen.length);
        int falsePositives = 0;
        for (long key : unseen) falsePositives += filter.mightContain(key) ? 1 : 0;
        // Sized for 1e-8: 0.01 false positives expected among 1M; 3 or more has probability < 2e-7.
        assertTrue(falsePositives <= 2, falsePositives + " false positives among " + PROBES);
        assertTrue(filter.falsePositiveRate() <= 1e-8, "designed rate " + filter.falsePositiveRate());
    }

    @Test
    void measuredFalsePositiveRateMatchesTheFormulaWhereItIsMeasurable() {
        // At a designed 1% the rate is large enough to measure over 1M probes: the hashing is as good as random
        // when the measured rate is within 10% of (1 - e^(-kn/m))^k (binomial sd ~1% of the count here).
        SplittableRandom random = new SplittableRandom(7);
        long[] training = Overlap.keys(randomWords(random, 100_007));
        BloomFilter filter = BloomFilter.forCapacity(training.length, 0.01);
        for (long key : training) filter.add(key);
        int falsePositives = 0;
        for (long key : Overlap.keys(randomWords(random, PROBES + 7))) falsePositives += filter.mightContain(key) ? 1 : 0;
        double measured = (double) falsePositives / PROBES;
        double designed = filter.falsePositiveRate();
        assertTrue(Math.abs(measured - designed) < 0.1 * designed, "measured " + measured + ", designed " + designed);
    }

    @Test
    void sizingFollowsTheStandardFormulas() {
        BloomFilter f = BloomFilter.forCapacity(1_000_000, 1e-8);
        // m = -n ln p / (ln 2)^2 = 38.3 bits per key, k = m/n ln 2 = 26.6 → 27 hashes.
        assertEquals(27, f.hashCount());
        assertEquals(38.3, f.bitCount() / 1e6, 0.2);
    }

    @Test
    void saveAndLoadRoundTrip() throws IOException {
        BloomFilter f = BloomFilter.forCapacity(1000, 1e-6);
        long[] keys = Overlap.keys(randomWords(new SplittableRandom(1), 1007));
        for (long key : keys) f.add(key);
        Path file = tmp.resolve("filter.bloom");
        f.save(file);
        BloomFilter g = BloomFilter.load(file);
        assertEquals(f.bitCount(), g.bitCount());
        assertEquals(f.hashCount(), g.hashCount());
        assertEquals(f.added(), g.added());
        for (long key : keys) assertTrue(g.mightContain(key));
        try (var files = Files.list(tmp)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void corruptFilesAreRejectedByName() throws IOException {
        Path notAFilter = tmp.resolve("words.txt");
        Files.writeString(notAFilter, "hello world, this is not a filter at all");
        IOException e = assertThrows(IOException.class, () -> BloomFilter.load(notAFilter));
        assertTrue(e.getMessage().contains("words.txt"), e.getMessage());

        BloomFilter f = BloomFilter.forCapacity(100, 1e-6);
        Path truncated = tmp.resolve("truncated.bloom");
        f.save(truncated);
        byte[] bytes = Files.readAllBytes(truncated);
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 8));
        e = assertThrows(IOException.class, () -> BloomFilter.load(truncated));
        assertTrue(e.getMessage().contains("truncated.bloom"), e.getMessage());
    }
}
