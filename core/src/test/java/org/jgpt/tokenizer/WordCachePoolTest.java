package org.jgpt.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Checks that encode calls share word caches through a bounded pool: the same ids from many threads at once as from
 * one, caches reused across virtual threads, never more caches than the pool's capacity, none lent twice at once.
 */
class WordCachePoolTest {

    /** A tokenizer of its own (GPT-2's files), so that other tests' calls do not touch its pool. */
    private static GPT2Tokenizer freshGpt2() {
        try {
            Path vocab = Path.of(GPT2Tokenizer.class.getResource("gpt2/vocab.json").toURI());
            Path merges = Path.of(GPT2Tokenizer.class.getResource("gpt2/merges.txt").toURI());
            return GPT2Tokenizer.load(vocab, merges);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Short prompts: the sentences of the first 40 State of the Union addresses. */
    private static List<String> prompts() {
        List<String> prompts = new ArrayList<>();
        for (Path file : Corpora.files("sotu").subList(0, 40)) {
            for (String sentence : new String(Corpora.bytes(file), StandardCharsets.UTF_8).split("(?<=\\.) ")) {
                if (!sentence.isBlank()) prompts.add(sentence);
            }
        }
        return prompts;
    }

    @Test
    void manyVirtualThreadsAtOnceGiveTheSequentialIds() throws Exception {
        List<String> prompts = prompts();
        assertTrue(prompts.size() > 3_000, "expected thousands of sentences, found " + prompts.size());
        GPT2Tokenizer sequential = freshGpt2();
        List<int[]> expected = new ArrayList<>();
        for (String prompt : prompts) expected.add(sequential.encode(prompt));

        GPT2Tokenizer tokenizer = freshGpt2();
        int threads = 1_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Future<List<int[]>>> results = new ArrayList<>();
        try (ExecutorService virtualThreads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < threads; t++) {
                int first = t;
                results.add(virtualThreads.submit(() -> {
                    start.await();
                    List<int[]> ids = new ArrayList<>();
                    // Each thread takes every threads-th prompt, so all of them overlap in words with the others.
                    for (int i = first; i < prompts.size(); i += threads) ids.add(tokenizer.encode(prompts.get(i)));
                    return ids;
                }));
            }
            start.countDown();
            for (int t = 0; t < threads; t++) {
                List<int[]> ids = results.get(t).get();
                for (int i = t, k = 0; i < prompts.size(); i += threads, k++) {
                    assertArrayEquals(expected.get(i), ids.get(k), "prompt #" + i + " encoded on a virtual thread");
                }
            }
        }
        WordCachePool pool = tokenizer.wordCaches();
        assertTrue(pool.created() >= 1 && pool.created() <= pool.capacity(),
                pool.created() + " caches for a pool of " + pool.capacity());
    }

    @Test
    void moreThreadsThanCachesStillGiveTheSequentialIds() throws Exception {
        GPT2Tokenizer tokenizer = freshGpt2();
        byte[] moby = Corpora.bytes(Corpora.root().resolve("moby-dick.txt"));
        int[] expected = freshGpt2().encode(moby);
        int threads = 3 * tokenizer.wordCaches().capacity();
        CountDownLatch start = new CountDownLatch(1);
        List<Future<int[]>> results = new ArrayList<>();
        try (ExecutorService platformThreads = Executors.newFixedThreadPool(threads)) {
            for (int t = 0; t < threads; t++) {
                results.add(platformThreads.submit(() -> {
                    start.await();
                    return tokenizer.encode(moby);
                }));
            }
            start.countDown();
            for (Future<int[]> result : results) assertArrayEquals(expected, result.get(), "Moby-Dick on a platform thread");
        }
        assertTrue(tokenizer.wordCaches().created() <= tokenizer.wordCaches().capacity());
    }

    @Test
    void encodingWithEveryCacheLentOutGivesTheSameIds() {
        GPT2Tokenizer tokenizer = freshGpt2();
        WordCachePool pool = tokenizer.wordCaches();
        List<WordCache> lent = new ArrayList<>();
        for (WordCache cache; (cache = pool.borrow()) != null; ) lent.add(cache);
        assertEquals(pool.capacity(), lent.size());
        String text = new String(Corpora.bytes(Corpora.files("sotu").getFirst()), StandardCharsets.UTF_8);
        assertArrayEquals(freshGpt2().encode(text), tokenizer.encode(text), "ids encoded without a word cache");
        assertArrayEquals(freshGpt2().encodeAllowingSpecial(text + "<|endoftext|>" + text),
                tokenizer.encodeAllowingSpecial(text + "<|endoftext|>" + text), "ids with a special token, no word cache");
        lent.forEach(pool::giveBack);
        assertEquals(pool.capacity(), pool.created());
    }

    @Test
    void callsOnNewVirtualThreadsOneAfterAnotherReuseOneCache() throws Exception {
        GPT2Tokenizer tokenizer = freshGpt2();
        for (int i = 0; i < 200; i++) {
            Thread.ofVirtual().start(() -> tokenizer.encode("Fellow citizens of the Senate and House of Representatives")).join();
        }
        assertEquals(1, tokenizer.wordCaches().created(), "caches made for 200 requests on 200 virtual threads");
    }

    @Test
    void aPoolLendsEachCacheToOneBorrowerAndMakesNoMoreThanItsCapacity() {
        WordCachePool pool = new WordCachePool(3);
        Set<WordCache> lent = new HashSet<>();
        for (int i = 0; i < 3; i++) lent.add(assertNotNullCache(pool.borrow()));
        assertEquals(3, lent.size(), "three borrowers got three different caches");
        assertNull(pool.borrow(), "a fourth borrower while all three are lent");
        WordCache returned = lent.iterator().next();
        pool.giveBack(returned);
        assertSame(returned, pool.borrow(), "the cache given back is lent again");
        pool.giveBack(null);
        assertNull(pool.borrow(), "giving back no cache frees none");
        for (WordCache cache : lent) pool.giveBack(cache);
        WordCache again = pool.borrow();
        assertNotSame(again, pool.borrow());
        assertEquals(3, pool.created());
    }

    private static WordCache assertNotNullCache(WordCache cache) {
        assertNotNull(cache, "a borrower while the pool has room");
        return cache;
    }
}
