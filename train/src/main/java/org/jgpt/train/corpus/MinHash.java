package org.jgpt.train.corpus;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.DoubleUnaryOperator;

/**
 * Near-duplicate detection as in the large web-corpus pipelines (MinHash with locality-sensitive hashing): a
 * document's shingles are its runs of 5 normalised words; its signature holds, for each of 128 seeded hash functions,
 * the least hash over its shingles, so that two signatures agree in a share of places that estimates the documents'
 * Jaccard similarity. Signatures are cut into bands; documents that share a whole band are candidates, and a candidate
 * pair whose signatures agree in at least the threshold's share of places is a near duplicate. The bands are chosen
 * for the threshold (fewest missed pairs above it and needless candidates below it, as datasketch does). Everything
 * depends on the seed alone, so the result does not depend on how the work is split.
 */
public final class MinHash implements Serializable {
    private static final long serialVersionUID = 1L;
    public static final int PERMUTATIONS = 128;
    public static final int SHINGLE_WORDS = 5;

    /** A document's place in the corpus order and its signature. */
    public record Signed(long order, long[] signature) implements Serializable {}

    private final long[] seeds = new long[PERMUTATIONS];
    private final double threshold;
    private final int bands;
    private final int rows;

    public MinHash(double threshold, long seed) {
        if (!(threshold > 0 && threshold <= 1)) throw new IllegalArgumentException("the near-duplicate threshold must be in (0, 1]: " + threshold);
        this.threshold = threshold;
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < PERMUTATIONS; i++) seeds[i] = random.nextLong();
        int[] best = bandsAndRows(threshold);
        this.bands = best[0];
        this.rows = best[1];
    }

    public int bands() {
        return bands;
    }

    public int rows() {
        return rows;
    }

    /** The signature of a text (its normalised words; a text shorter than a shingle is one shingle). */
    public long[] signature(String normalizedText) {
        long[] signature = new long[PERMUTATIONS];
        Arrays.fill(signature, Long.MAX_VALUE);
        String[] words = normalizedText.isEmpty() ? new String[0] : normalizedText.split(" ");
        long[] wordHashes = new long[words.length];
        for (int i = 0; i < words.length; i++) wordHashes[i] = fnv(words[i]);
        int shingles = Math.max(1, words.length - SHINGLE_WORDS + 1);
        for (int s = 0; s < shingles; s++) {
            long shingle = 0;
            for (int w = s; w < Math.min(words.length, s + SHINGLE_WORDS); w++) shingle = mix(shingle * 0x9e3779b97f4a7c15L + wordHashes[w]);
            for (int i = 0; i < PERMUTATIONS; i++) {
                long h = mix(shingle ^ seeds[i]);
                if (h < signature[i]) signature[i] = h;
            }
        }
        return signature;
    }

    /** The key of each band of a signature: documents that share one are candidate near duplicates. */
    public long[] bandKeys(long[] signature) {
        long[] keys = new long[bands];
        for (int b = 0; b < bands; b++) {
            long key = mix(b + 1);
            for (int r = b * rows; r < (b + 1) * rows; r++) key = mix(key * 0x9e3779b97f4a7c15L + signature[r]);
            keys[b] = key;
        }
        return keys;
    }

    /** The share of places where two signatures agree: an estimate of the documents' Jaccard similarity. */
    public static double similarity(long[] a, long[] b) {
        int same = 0;
        for (int i = 0; i < a.length; i++) if (a[i] == b[i]) same++;
        return (double) same / a.length;
    }

    /**
     * The documents of one LSH bucket that are near duplicates of an earlier document of the bucket (by corpus
     * order): each pair at or above the threshold drops its later document.
     */
    public List<Long> laterDuplicates(List<Signed> bucket) {
        List<Signed> sorted = new ArrayList<>(bucket);
        sorted.sort(Comparator.comparingLong(Signed::order));
        List<Long> later = new ArrayList<>();
        for (int j = 1; j < sorted.size(); j++) {
            for (int i = 0; i < j; i++) {
                if (similarity(sorted.get(i).signature(), sorted.get(j).signature()) >= threshold) {
                    later.add(sorted.get(j).order());
                    break;
                }
            }
        }
        return later;
    }

    /**
     * The documents that are near duplicates of an earlier one: the documents are put into a bucket per band key,
     * and each bucket of more than one drops its {@link #laterDuplicates}.
     */
    public Set<Long> nearDuplicates(List<Signed> documents) {
        Map<String, List<Signed>> buckets = new HashMap<>();
        for (Signed doc : documents) {
            long[] keys = bandKeys(doc.signature());
            for (int b = 0; b < keys.length; b++) buckets.computeIfAbsent(b + ":" + keys[b], k -> new ArrayList<>()).add(doc);
        }
        Set<Long> near = new TreeSet<>();
        for (List<Signed> bucket : buckets.values()) if (bucket.size() > 1) near.addAll(laterDuplicates(bucket));
        return near;
    }

    /** The bands and rows (bands × rows ≤ 128) that best separate pairs above the threshold from those below. */
    static int[] bandsAndRows(double threshold) {
        double bestError = Double.MAX_VALUE;
        int[] best = {1, PERMUTATIONS};
        for (int bands = 1; bands <= PERMUTATIONS; bands++) {
            for (int rows = 1; bands * rows <= PERMUTATIONS; rows++) {
                int b = bands, r = rows;
                double missed = integrate(s -> 1 - candidateChance(s, b, r), threshold, 1);
                double needless = integrate(s -> candidateChance(s, b, r), 0, threshold);
                if (missed + needless < bestError) {
                    bestError = missed + needless;
                    best = new int[] {b, r};
                }
            }
        }
        return best;
    }

    private static double candidateChance(double similarity, int bands, int rows) {
        return 1 - Math.pow(1 - Math.pow(similarity, rows), bands);
    }

    private static double integrate(DoubleUnaryOperator f, double from, double to) {
        int steps = 100;
        double width = (to - from) / steps;
        double sum = 0;
        for (int i = 0; i < steps; i++) sum += f.applyAsDouble(from + (i + 0.5) * width) * width;
        return sum;
    }

    private static long fnv(String word) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < word.length(); i++) h = (h ^ word.charAt(i)) * 0x100000001b3L;
        return h;
    }

    /** Stafford's Mix13 finalizer. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
