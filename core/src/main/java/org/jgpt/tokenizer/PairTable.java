package org.jgpt.tokenizer;

/**
 * The merges: a pair of token ids (left, right) to its rank and the id it merges into, in a long-keyed
 * open-addressing table. Filled once, then read-only.
 */
final class PairTable {
    private static final long EMPTY = -1L;
    private final long[] keys;
    private final int[] ranks;
    private final int[] merged;
    private final int mask;

    PairTable(int capacity) {
        int size = Integer.highestOneBit(Math.max(4, capacity) * 2 - 1) * 2;
        keys = new long[size];
        java.util.Arrays.fill(keys, EMPTY);
        ranks = new int[size];
        merged = new int[size];
        mask = size - 1;
    }

    /** Adds a merge; returns false if the pair already had one. */
    boolean put(int left, int right, int rank, int mergedId) {
        long key = key(left, right);
        int slot = slot(key);
        while (keys[slot] != EMPTY) {
            if (keys[slot] == key) return false;
            slot = (slot + 1) & mask;
        }
        keys[slot] = key;
        ranks[slot] = rank;
        merged[slot] = mergedId;
        return true;
    }

    /** The slot of the pair, or -1 if the pair does not merge. */
    int find(int left, int right) {
        long key = key(left, right);
        int slot = slot(key);
        long k;
        while ((k = keys[slot]) != EMPTY) {
            if (k == key) return slot;
            slot = (slot + 1) & mask;
        }
        return -1;
    }

    int rank(int slot) {
        return ranks[slot];
    }

    int merged(int slot) {
        return merged[slot];
    }

    private static long key(int left, int right) {
        return (long) left << 32 | (right & 0xFFFFFFFFL);
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask;
    }
}
