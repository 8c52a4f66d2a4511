package org.jgpt.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.GPT2Weights;
import org.jgpt.model.TinyModels;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Continuous batching on a small random GPT-2 (F32): a seeded request decodes the same tokens, text and
 * log-probabilities alone as when it joins a running crowd (long prompts read in chunks, other samples, other
 * seeds); a cancelled request leaves at once and lets a waiting one in; a full queue refuses; a request too large
 * for the cap or the context is refused when submitted; a listener that fails ends its own request only.
 */
class BatchSchedulerTest {
    private static final GPT2Tokenizer TOKENIZER = GPT2Tokenizer.gpt2();
    private static GPT2Weights weights;
    private static GPT2Model model;

    @BeforeAll
    static void load() {
        weights = TinyModels.random(TinyModels.config(50257, 640, 64, 2, 2, false), 3);
        model = new GPT2Model(weights);
    }

    @AfterAll
    static void close() throws Exception {
        weights.close();
    }

    private static final Generator.Listener QUIET = (sequence, text) -> {};

    private static List<int[]> prompts(String... texts) {
        List<int[]> prompts = new ArrayList<>();
        for (String text : texts) prompts.add(TOKENIZER.encode(text));
        return prompts;
    }

    private static List<Generator.Completion> result(Batch.Request request) throws Exception {
        return request.result().get(120, TimeUnit.SECONDS);
    }

    @Test
    void aSeededRequestGivesTheSameTextAloneOrInACrowd() throws Exception {
        List<int[]> target = prompts("Once upon a time", "");
        GenerationOptions options = new GenerationOptions(24, 0.9f, 50, 0.95f, 1.1f, List.of(), 42, 2, false);
        List<Generator.Completion> alone;
        try (BatchScheduler scheduler = new BatchScheduler(model, TOKENIZER, new BatchScheduler.Limits(64, 16), null)) {
            alone = result(scheduler.submit(target, options, 3, QUIET));
        }

        String longText = "The history of the world is a long story of many peoples and places. ".repeat(30);
        AtomicInteger crowdTokens = new AtomicInteger();
        Generator.Listener counting = (sequence, text) -> crowdTokens.incrementAndGet();
        try (BatchScheduler scheduler = new BatchScheduler(model, TOKENIZER, new BatchScheduler.Limits(64, 16), null)) {
            List<Batch.Request> crowd = new ArrayList<>();
            crowd.add(scheduler.submit(prompts("Hello there", "In the year"),
                    GenerationOptions.defaults().withMaxNewTokens(60).withSamples(3).withSeed(1), -1, counting));
            crowd.add(scheduler.submit(prompts(longText), GenerationOptions.defaults().withMaxNewTokens(40).withSeed(2),
                    -1, counting));
            while (crowdTokens.get() < 5) Thread.onSpinWait(); // the crowd is decoding when the target joins
            Batch.Request joining = scheduler.submit(target, options, 3, QUIET);
            crowd.add(scheduler.submit(prompts(longText + "And then"),
                    GenerationOptions.defaults().withMaxNewTokens(30).withSeed(4).withTemperature(0f), 2, QUIET));
            List<Generator.Completion> inCrowd = result(joining);
            for (Batch.Request other : crowd) result(other);
            assertTrue(crowdTokens.get() > 5);
            assertEquals(alone.size(), inCrowd.size());
            for (int i = 0; i < alone.size(); i++) {
                Generator.Completion a = alone.get(i), c = inCrowd.get(i);
                assertArrayEquals(a.tokens(), c.tokens(), "sequence " + i);
                assertEquals(a.text(), c.text(), "sequence " + i);
                assertEquals(a.reason(), c.reason(), "sequence " + i);
                for (int t = 0; t < a.logprobs().size(); t++) {
                    assertEquals(a.logprobs().get(t).logprob(), c.logprobs().get(t).logprob(), 0, "token " + t);
                    assertArrayEquals(a.logprobs().get(t).topTokens(), c.logprobs().get(t).topTokens(), "token " + t);
                }
            }
        }
        List<Generator.Completion> generated = new Generator(model, TOKENIZER).generateTokens(target, options, 3, QUIET);
        for (int i = 0; i < alone.size(); i++) assertArrayEquals(alone.get(i).tokens(), generated.get(i).tokens());
    }

    @Test
    void aCancelledRequestLeavesAtOnceAndLetsAWaitingOneIn() throws Exception {
        try (BatchScheduler scheduler = new BatchScheduler(model, TOKENIZER, new BatchScheduler.Limits(2, 4), null)) {
            AtomicInteger pieces = new AtomicInteger();
            Batch.Request[] long_ = new Batch.Request[1];
            CountDownLatch submitted = new CountDownLatch(1);
            Generator.Listener cancelling = (sequence, text) -> {
                if (pieces.incrementAndGet() == 3) {
                    await(submitted);
                    scheduler.cancel(long_[0]);
                }
            };
            long_[0] = scheduler.submit(prompts("A long one"),
                    GenerationOptions.defaults().withMaxNewTokens(500).withSamples(2).withSeed(5), -1, cancelling);
            Batch.Request waiting = scheduler.submit(prompts("A short one"),
                    GenerationOptions.defaults().withMaxNewTokens(5).withSeed(6), -1, QUIET);
            submitted.countDown();
            assertEquals(1, result(waiting).size());
            assertTrue(long_[0].result().isCancelled());
            assertTrue(pieces.get() < 20, pieces.get() + " pieces: the cancelled request went on");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); // the gauge is set after the step
            while (scheduler.runningSequences() != 0 && System.nanoTime() < deadline) Thread.onSpinWait();
            assertEquals(0, scheduler.runningSequences());
        }
    }

    @Test
    void aFullQueueRefusesAndTasksRunInTurn() throws Exception {
        try (BatchScheduler scheduler = new BatchScheduler(model, TOKENIZER, new BatchScheduler.Limits(4, 1), null)) {
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            var blocking = scheduler.run(() -> {
                started.countDown();
                return release.await(60, TimeUnit.SECONDS);
            });
            started.await();
            Batch.Request queued = scheduler.submit(prompts("First"), GenerationOptions.defaults().withMaxNewTokens(3), -1, QUIET);
            assertEquals(1, scheduler.queued());
            assertThrows(BatchScheduler.QueueFullException.class, () -> scheduler.submit(prompts("Second"),
                    GenerationOptions.defaults().withMaxNewTokens(3), -1, QUIET));
            release.countDown();
            assertTrue(blocking.get());
            assertEquals(1, result(queued).size());
        }
    }

    @Test
    void requestsTooLargeAreRefusedWhenSubmitted() {
        try (BatchScheduler scheduler = new BatchScheduler(model, TOKENIZER, new BatchScheduler.Limits(4, 4), null)) {
            IllegalArgumentException many = assertThrows(IllegalArgumentException.class, () -> scheduler.submit(
                    prompts("a", "b", "c"), GenerationOptions.defaults().withSamples(2), -1, QUIET));
            assertTrue(many.getMessage().contains("more than 4 completions"), many.getMessage());
            IllegalArgumentException longPrompt = assertThrows(IllegalArgumentException.class, () -> scheduler.submit(
                    prompts("word ".repeat(700)), GenerationOptions.defaults(), -1, QUIET));
            assertTrue(longPrompt.getMessage().contains("context"), longPrompt.getMessage());
        }
    }

    @Test
    void aFailingListenerEndsItsOwnRequestOnly() throws Exception {
        try (BatchScheduler scheduler = new BatchScheduler(model, TOKENIZER, new BatchScheduler.Limits(8, 8), null)) {
            Generator.Listener failing = (sequence, text) -> {
                throw new IllegalStateException("the client went away");
            };
            Batch.Request failed = scheduler.submit(prompts("One"), GenerationOptions.defaults().withMaxNewTokens(20), -1, failing);
            Batch.Request fine = scheduler.submit(prompts("Two"), GenerationOptions.defaults().withMaxNewTokens(20), -1, QUIET);
            ExecutionException e = assertThrows(ExecutionException.class, () -> result(failed));
            assertEquals("the client went away", e.getCause().getMessage());
            assertEquals(1, result(fine).size());
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
