package org.jgpt.tokenizer;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The word caches of one tokenizer, lent to one encode call at a time. A cache per thread would be lost with each
 * virtual thread (the server runs a request on a new one); lent caches keep what earlier calls merged, whichever
 * thread made them. At most {@link #capacity()} caches ever exist: a call that finds none free while that many are
 * lent out encodes without one. Borrowing and returning are a few atomic operations, no lock.
 */
final class WordCachePool {
    private final AtomicReferenceArray<WordCache> free;
    private final AtomicInteger created = new AtomicInteger();

    /**
     * Room for as many encode calls as there are processors, twice over: virtual threads run on one carrier per
     * processor, and platform threads beyond that can be descheduled while holding a cache.
     */
    WordCachePool() {
        this(2 * Runtime.getRuntime().availableProcessors());
    }

    WordCachePool(int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("a word cache pool needs room for at least one cache, got " + capacity);
        free = new AtomicReferenceArray<>(capacity);
    }

    /** A cache that no other call uses until it is {@linkplain #giveBack given back}, or null if all are lent out. */
    WordCache borrow() {
        for (int i = 0; i < free.length(); i++) {
            WordCache cache = free.get(i);
            if (cache != null && free.compareAndSet(i, cache, null)) return cache;
        }
        int count;
        while ((count = created.get()) < free.length()) {
            if (created.compareAndSet(count, count + 1)) return new WordCache();
        }
        return null;
    }

    /** Returns a borrowed cache (null, for a call that got none, is allowed) for later calls. */
    void giveBack(WordCache cache) {
        if (cache == null) return;
        // Never more caches than slots exist, so a free slot is always found; another call may take it first.
        for (int i = 0; ; i = (i + 1) % free.length()) {
            if (free.get(i) == null && free.compareAndSet(i, null, cache)) return;
        }
    }

    /** The most caches this pool will ever hold. */
    int capacity() {
        return free.length();
    }

    /** How many caches exist, lent out or free. */
    int created() {
        return created.get();
    }
}
