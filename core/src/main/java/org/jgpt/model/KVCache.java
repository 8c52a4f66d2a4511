package org.jgpt.model;

/**
 * One sequence's attention keys and values, for every layer, for positions {@code 0 .. length() - 1}.
 * Row {@code t} of a layer's keys is the key vector of all heads at position {@code t} ([capacity, n_embd]).
 */
public final class KVCache {
    final float[][] keys;
    final float[][] values;
    private final int capacity;
    private final int width;
    private int length;

    /** An empty cache with room for {@code capacity} positions (at most the model's context). */
    public KVCache(GPT2Config config, int capacity) {
        if (capacity <= 0 || capacity > config.nPositions()) {
            throw new IllegalArgumentException("KV cache capacity " + capacity + " must be in 1.." + config.nPositions()
                    + " (the model's context)");
        }
        this.capacity = capacity;
        this.width = config.nEmbd();
        this.keys = new float[config.nLayer()][capacity * width];
        this.values = new float[config.nLayer()][capacity * width];
    }

    /** Number of positions held. */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /** Forgets every position, so the cache can serve a new sequence. */
    public void clear() {
        length = 0;
    }

    /** Forgets the positions from {@code length} on, e.g. to score other continuations of a shared context. */
    public void truncate(int length) {
        if (length < 0 || length > this.length) {
            throw new IllegalArgumentException("cannot truncate a KV cache of " + this.length + " positions to " + length);
        }
        this.length = length;
    }

    /** Makes this cache hold the same positions as {@code other} (e.g. one prompt shared by several samples). */
    public void copyFrom(KVCache other) {
        if (other.length > capacity || other.width != width || other.keys.length != keys.length) {
            throw new IllegalArgumentException("cannot copy a KV cache of " + other.length + " positions into one of "
                    + capacity + " (or of another model)");
        }
        for (int l = 0; l < keys.length; l++) {
            System.arraycopy(other.keys[l], 0, keys[l], 0, other.length * width);
            System.arraycopy(other.values[l], 0, values[l], 0, other.length * width);
        }
        length = other.length;
    }

    void advance(int positions) {
        length += positions;
    }
}
