package org.jgpt.generate;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jgpt.generate.Generator.Listener;
import org.jgpt.model.GPT2Model;
import org.jgpt.tokenizer.Tokenizer;

/**
 * Continuous batching for many clients: one thread owns the model and steps a {@link Batch}; requests from any
 * thread wait in a bounded queue, in arrival order, and join the batch at the next step while the sequences in
 * flight stay within a cap. Other work on the model (scoring) runs between steps, in the same queue. A request
 * that is cancelled (its client went away) leaves the batch before the next step, freeing its place.
 */
public final class BatchScheduler implements AutoCloseable {
    /**
     * @param maxSequences sequences decoding at once, at most; also the most one request may ask for
     * @param maxQueued    requests and tasks waiting to start, at most; past that {@link #submit} refuses
     */
    public record Limits(int maxSequences, int maxQueued) {
        public Limits {
            if (maxSequences < 1) throw new IllegalArgumentException("max sequences must be at least 1: " + maxSequences);
            if (maxQueued < 1) throw new IllegalArgumentException("max queued must be at least 1: " + maxQueued);
        }
    }

    /** The queue is full: the caller should answer "try again later". */
    public static final class QueueFullException extends RuntimeException {
        QueueFullException(int size) {
            super("the server is busy: " + size + " requests are already waiting; try again shortly");
        }
    }

    /** Told what each step did, on the scheduler's thread: for metrics. */
    public interface StepObserver {
        void onStep(int sequences, int rows, long nanos);
    }

    private final Batch batch;
    private final Limits limits;
    private final StepObserver observer;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    /** Requests ({@link Batch.Request}) and tasks ({@link FutureTask}) in arrival order. */
    private final ArrayDeque<Object> queue = new ArrayDeque<>();
    private final List<Batch.Request> cancelled = new ArrayList<>();
    private final List<Batch.Request> running = new ArrayList<>();
    private final Thread thread;
    private volatile int runningSequences;
    private boolean closed;

    public BatchScheduler(GPT2Model model, Tokenizer tokenizer, Limits limits, StepObserver observer) {
        this.batch = new Batch(model, tokenizer);
        this.limits = limits;
        this.observer = observer;
        this.thread = Thread.ofPlatform().name("jgpt-batch").daemon().start(this::loop);
    }

    public Limits limits() {
        return limits;
    }

    /**
     * Checks a request (errors are {@link IllegalArgumentException}s, thrown here) and queues it; its listener is
     * called on the scheduler's thread and must not block. Throws {@link QueueFullException} when the queue is full.
     */
    public Batch.Request submit(List<int[]> prompts, GenerationOptions options, int logprobs, Listener listener) {
        long sequences = (long) prompts.size() * options.samples();
        if (sequences > limits.maxSequences()) {
            throw new IllegalArgumentException(prompts.size() + " prompts × n = " + options.samples()
                    + " asks for more than " + limits.maxSequences() + " completions at once");
        }
        int waiting = queued();
        if (waiting >= limits.maxQueued()) throw new QueueFullException(waiting); // before making its samplers
        Batch.Request request = batch.request(prompts, options, logprobs, listener);
        enqueue(request);
        return request;
    }

    /** Runs {@code task} on the model's thread between two steps, in queue order. */
    public <T> Future<T> run(Callable<T> task) {
        FutureTask<T> future = new FutureTask<>(task);
        enqueue(future);
        return future;
    }

    private void enqueue(Object item) {
        lock.lock();
        try {
            if (closed) throw new IllegalStateException("the scheduler is closed");
            if (queue.size() >= limits.maxQueued()) throw new QueueFullException(queue.size());
            queue.add(item);
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Drops the request, whether waiting or decoding; its result is cancelled. Does nothing once it is done. */
    public void cancel(Batch.Request request) {
        lock.lock();
        try {
            if (queue.remove(request)) {
                request.result().cancel(false);
            } else if (!request.result().isDone()) {
                cancelled.add(request);
                work.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Requests and tasks waiting to start. */
    public int queued() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /** Sequences in the batch, decoding or being prefilled. */
    public int runningSequences() {
        return runningSequences;
    }

    private void loop() {
        while (true) {
            List<Object> starting = new ArrayList<>();
            List<Batch.Request> leaving;
            lock.lock();
            try {
                while (!closed && queue.isEmpty() && cancelled.isEmpty() && batch.isEmpty()) work.awaitUninterruptibly();
                if (closed) break;
                leaving = new ArrayList<>(cancelled);
                cancelled.clear();
                // In arrival order: a request that does not fit waits, and so does everything behind it.
                int sequences = batch.sequences();
                while (!queue.isEmpty()) {
                    if (queue.peek() instanceof Batch.Request next) {
                        if (sequences + next.sequences() > limits.maxSequences()) break;
                        sequences += next.sequences();
                    }
                    starting.add(queue.poll());
                }
            } finally {
                lock.unlock();
            }
            for (Batch.Request request : leaving) {
                if (running.remove(request)) batch.remove(request);
            }
            for (Object item : starting) {
                if (item instanceof Batch.Request request) {
                    batch.join(request);
                    running.add(request);
                } else {
                    ((FutureTask<?>) item).run();
                }
            }
            if (!batch.isEmpty()) {
                long start = System.nanoTime();
                int sequences = batch.sequences();
                int rows;
                try {
                    rows = batch.step();
                } catch (RuntimeException e) {
                    failRunning(e); // a bug, not a client's doing: fail what was running and go on serving
                    continue;
                }
                if (observer != null) observer.onStep(sequences, rows, System.nanoTime() - start);
            }
            running.removeIf(request -> request.result().isDone());
            runningSequences = batch.sequences();
        }
        lock.lock();
        try {
            for (Object item : queue) cancelQueued(item);
            queue.clear();
        } finally {
            lock.unlock();
        }
        failRunning(new CancellationException("the server is shutting down"));
    }

    private void failRunning(RuntimeException e) {
        for (Batch.Request request : running) {
            request.result().completeExceptionally(e);
            batch.remove(request);
        }
        running.clear();
        runningSequences = batch.sequences();
    }

    private static void cancelQueued(Object item) {
        if (item instanceof Batch.Request request) request.result().cancel(false);
        else ((FutureTask<?>) item).cancel(false);
    }

    /** Stops the thread; queued and running requests are cancelled. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            work.signal();
        } finally {
            lock.unlock();
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
