package org.jgpt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The pool runs every task exactly once, survives nesting and failures, and stays correct across many calls. */
class ParallelTest {
    @Test
    void runsEachTaskExactlyOnceAcrossManyCalls() {
        for (int call = 0; call < 2000; call++) {
            int tasks = call % 37;
            AtomicIntegerArray runs = new AtomicIntegerArray(Math.max(tasks, 1));
            Parallel.forEach(tasks, t -> runs.incrementAndGet(t));
            for (int t = 0; t < tasks; t++) assertEquals(1, runs.get(t), "call " + call + " task " + t);
        }
    }

    @Test
    void nestedCallsRunInline() {
        AtomicIntegerArray runs = new AtomicIntegerArray(8 * 5);
        Parallel.forEach(8, outer -> Parallel.forEach(5, inner -> runs.incrementAndGet(outer * 5 + inner)));
        for (int i = 0; i < 40; i++) assertEquals(1, runs.get(i), "pair " + i);
    }

    @Test
    void rethrowsTaskFailureAndKeepsWorking() {
        IllegalStateException failure = new IllegalStateException("task 3 failed");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> Parallel.forEach(10, t -> {
            if (t == 3) throw failure;
        }));
        assertSame(failure, thrown);
        AtomicIntegerArray runs = new AtomicIntegerArray(10);
        Parallel.forEach(10, runs::incrementAndGet);
        for (int t = 0; t < 10; t++) assertEquals(1, runs.get(t));
    }
}
