package org.jgpt.tokenizer;

import java.util.Arrays;

/**
 * Token ids of words already merged, keyed by their bytes. Used by one encode call at a time, lent by a
 * {@link WordCachePool} (no locking); it empties itself when three quarters full, which bounds its memory.
 */
final class WordCache {
    private static final int SIZE = 1 << 15;
    private final byte[][] keys = new byte[SIZE][];
    private final int[][] values = new int[SIZE][];
    private int count;

    int[] get(byte[] text, int from, int length) {
        int slot = PieceTable.hash(text, from, length) & (SIZE - 1);
        byte[] key;
        while ((key = keys[slot]) != null) {
            if (key.length == length && Arrays.equals(key, 0, length, text, from, from + length)) return values[slot];
            slot = (slot + 1) & (SIZE - 1);
        }
        return null;
    }

    void put(byte[] text, int from, int length, int[] ids) {
        if (count >= SIZE / 4 * 3) {
            Arrays.fill(keys, null);
            Arrays.fill(values, null);
            count = 0;
        }
        int slot = PieceTable.hash(text, from, length) & (SIZE - 1);
        while (keys[slot] != null) slot = (slot + 1) & (SIZE - 1);
        keys[slot] = Arrays.copyOfRange(text, from, from + length);
        values[slot] = ids;
        count++;
    }
}
