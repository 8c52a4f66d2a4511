package org.jgpt.tokenizer;

import java.util.Arrays;

/**
 * Byte strings to token ids, looked up by a slice of a larger array so that encoding allocates nothing per word.
 * Open addressing with linear probing; filled once, then read-only (safe to share between threads).
 */
final class PieceTable {
    private final byte[][] keys;
    private final int[] ids;
    private final int mask;

    PieceTable(int capacity) {
        int size = Integer.highestOneBit(Math.max(4, capacity) * 2 - 1) * 2;
        keys = new byte[size][];
        ids = new int[size];
        mask = size - 1;
    }

    void put(byte[] key, int id) {
        int slot = hash(key, 0, key.length) & mask;
        while (keys[slot] != null && !Arrays.equals(keys[slot], key)) slot = (slot + 1) & mask;
        keys[slot] = key;
        ids[slot] = id;
    }

    /** The id of {@code text[from, from + length)}, or -1. */
    int get(byte[] text, int from, int length) {
        int slot = hash(text, from, length) & mask;
        byte[] key;
        while ((key = keys[slot]) != null) {
            if (key.length == length && Arrays.equals(key, 0, length, text, from, from + length)) return ids[slot];
            slot = (slot + 1) & mask;
        }
        return -1;
    }

    static int hash(byte[] text, int from, int length) {
        int h = length;
        for (int i = from, end = from + length; i < end; i++) h = 31 * h + text[i];
        return h ^ (h >>> 15) * 0x2c1b3c6d;
    }
}
