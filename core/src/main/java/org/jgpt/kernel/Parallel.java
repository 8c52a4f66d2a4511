package org.jgpt.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.function.IntConsumer;

/**
 * The one thread pool that every kernel shares. Its size is {@code -Djgpt.threads=N}, else the environment
 * variable {@code JGPT_THREADS}, else the number of available processors.
 */
public final class Parallel {
    private static final int THREADS = configuredThreads();
    private static final ForkJoinPool POOL = THREADS > 1 ? new ForkJoinPool(THREADS) : null;

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
        if (POOL == null || tasks == 1 || ForkJoinTask.inForkJoinPool()) {
            for (int t = 0; t < tasks; t++) body.accept(t);
            return;
        }
        int workers = Math.min(THREADS, tasks);
        ForkJoinTask<?>[] jobs = new ForkJoinTask<?>[workers];
        for (int w = 0; w < workers; w++) {
            int worker = w;
            jobs[w] = POOL.submit(() -> {
                for (int t = worker; t < tasks; t += workers) body.accept(t);
            });
        }
        for (ForkJoinTask<?> job : jobs) job.join();
    }
}
