package org.jgpt.kernel;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The one thread pool that every kernel shares. Its size is {@code -Djgpt.threads=N}, else the environment
 * variable {@code JGPT_THREADS}, else the number of available processors.
 *
 * <p>Decoding calls {@link #forEach} about a hundred times per token, so the workers are persistent threads that
 * spin briefly between jobs before parking: a job starts in well under a microsecond instead of the tens of
 * microseconds a fork/join submission plus wake-up costs. The calling thread takes tasks too. A call made while
 * the pool is busy (from inside a task, or from a second thread) runs its tasks on the calling thread.
 */
public final class Parallel {
    private static final int THREADS = configuredThreads();
    /** How long an idle worker spins before parking; covers the gaps between the kernels of one decode step. */
    private static final long SPIN_NANOS = 200_000;

    private static final AtomicBoolean BUSY = new AtomicBoolean();
    private static final Worker[] WORKERS = startWorkers(THREADS - 1);
    private static volatile Job current;

    private Parallel() {}

    private static int configuredThreads() {
        String value = System.getProperty("jgpt.threads", System.getenv("JGPT_THREADS"));
        if (value != null && !value.isBlank()) return Math.max(1, Integer.parseInt(value.trim()));
        return Runtime.getRuntime().availableProcessors();
    }

    public static int threads() {
        return THREADS;
    }

    /** Runs {@code body} for each task index in {@code [0, tasks)}, spread over the pool; returns when all are done. */
    public static void forEach(int tasks, IntConsumer body) {
        if (tasks <= 0) return;
        if (WORKERS.length == 0 || tasks == 1 || !BUSY.compareAndSet(false, true)) {
            for (int t = 0; t < tasks; t++) body.accept(t);
            return;
        }
        try {
            Job job = new Job(body, tasks);
            current = job;
            for (Worker worker : WORKERS) {
                if (worker.parked) LockSupport.unpark(worker.thread);
            }
            job.run();
            while (job.done.get() < tasks) Thread.onSpinWait();
            Throwable failure = job.failure;
            if (failure instanceof RuntimeException e) throw e;
            if (failure instanceof Error e) throw e;
        } finally {
            current = null; // lets the finished job's arrays be collected
            BUSY.set(false);
        }
    }

    private static Worker[] startWorkers(int count) {
        Worker[] workers = new Worker[count];
        for (int i = 0; i < count; i++) {
            workers[i] = new Worker();
            workers[i].thread = Thread.ofPlatform().daemon().name("jgpt-worker-" + (i + 1)).start(workers[i]);
        }
        return workers;
    }

    /** One forEach call: tasks are claimed from a shared counter, so faster threads take more of them. */
    private static final class Job {
        final IntConsumer body;
        final int tasks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;

        Job(IntConsumer body, int tasks) {
            this.body = body;
            this.tasks = tasks;
        }

        void run() {
            for (int t; (t = next.getAndIncrement()) < tasks; ) {
                try {
                    body.accept(t);
                } catch (Throwable e) {
                    if (failure == null) failure = e;
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }

    private static final class Worker implements Runnable {
        Thread thread;
        volatile boolean parked;

        @Override
        public void run() {
            Job last = null;
            while (true) {
                Job job = awaitJob(last);
                job.run();
                last = job;
            }
        }

        private Job awaitJob(Job last) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (true) {
                Job job = current;
                if (job != null && job != last) return job;
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                    continue;
                }
                // Announce parking before the last look at current; forEach publishes current before reading parked.
                parked = true;
                Job latest = current;
                if (latest == null || latest == last) LockSupport.park(this);
                parked = false;
                spinUntil = System.nanoTime() + SPIN_NANOS;
            }
        }
    }
}
