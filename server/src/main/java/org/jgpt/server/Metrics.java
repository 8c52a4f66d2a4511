package org.jgpt.server;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The server's counters, gauges and histograms, written in Prometheus' text exposition format for
 * {@code GET /metrics}: requests by endpoint and status, prompt and generated tokens, queue depth, sequences in the
 * batch, sequences per decoding step, and latency histograms (whole requests, time to first token, steps).
 */
final class Metrics {
    private static final double[] SECONDS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
    private static final double[] SEQUENCES = {1, 2, 4, 8, 16, 32, 64, 128};

    /** A cumulative histogram with fixed upper bounds, as Prometheus reads it. */
    private static final class Histogram {
        private final double[] bounds;
        private final long[] counts;
        private double sum;
        private long count;

        Histogram(double[] bounds) {
            this.bounds = bounds;
            this.counts = new long[bounds.length];
        }

        synchronized void observe(double value) {
            for (int i = 0; i < bounds.length; i++) {
                if (value <= bounds[i]) counts[i]++;
            }
            sum += value;
            count++;
        }

        synchronized void write(StringBuilder out, String name, String labels) {
            String prefix = labels.isEmpty() ? "" : labels + ",";
            for (int i = 0; i < bounds.length; i++) {
                out.append(name).append("_bucket{").append(prefix).append("le=\"").append(number(bounds[i]))
                        .append("\"} ").append(counts[i]).append('\n');
            }
            out.append(name).append("_bucket{").append(prefix).append("le=\"+Inf\"} ").append(count).append('\n');
            String braces = labels.isEmpty() ? "" : "{" + labels + "}";
            out.append(name).append("_sum").append(braces).append(' ').append(number(sum)).append('\n');
            out.append(name).append("_count").append(braces).append(' ').append(count).append('\n');
        }
    }

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, Histogram> durations = new ConcurrentHashMap<>();
    private final LongAdder promptTokens = new LongAdder();
    private final LongAdder generatedTokens = new LongAdder();
    private final Histogram firstToken = new Histogram(SECONDS);
    private final Histogram batchSize = new Histogram(SEQUENCES);
    private final Histogram stepSeconds = new Histogram(SECONDS);
    private final IntSupplier queueDepth;
    private final IntSupplier runningSequences;

    Metrics(IntSupplier queueDepth, IntSupplier runningSequences) {
        this.queueDepth = queueDepth;
        this.runningSequences = runningSequences;
    }

    /** One request answered; {@code endpoint} is a known path or "other", so that the labels stay few. */
    void request(String endpoint, int status, double seconds) {
        requests.computeIfAbsent("endpoint=\"" + endpoint + "\",status=\"" + status + "\"", k -> new LongAdder()).increment();
        durations.computeIfAbsent("endpoint=\"" + endpoint + "\"", k -> new Histogram(SECONDS)).observe(seconds);
    }

    void tokens(long prompt, long generated) {
        promptTokens.add(prompt);
        generatedTokens.add(generated);
    }

    void firstToken(double seconds) {
        firstToken.observe(seconds);
    }

    void step(int sequences, long nanos) {
        batchSize.observe(sequences);
        stepSeconds.observe(nanos / 1e9);
    }

    String text() {
        StringBuilder out = new StringBuilder();
        header(out, "jgpt_requests_total", "counter", "HTTP requests answered, by endpoint and status.");
        new TreeMap<>(requests).forEach((labels, count) ->
                out.append("jgpt_requests_total{").append(labels).append("} ").append(count.sum()).append('\n'));
        header(out, "jgpt_request_duration_seconds", "histogram", "Time from a request's arrival to the end of its answer.");
        new TreeMap<>(durations).forEach((labels, histogram) -> histogram.write(out, "jgpt_request_duration_seconds", labels));
        header(out, "jgpt_prompt_tokens_total", "counter", "Prompt tokens fed for generation.");
        out.append("jgpt_prompt_tokens_total ").append(promptTokens.sum()).append('\n');
        header(out, "jgpt_generated_tokens_total", "counter", "Tokens generated.");
        out.append("jgpt_generated_tokens_total ").append(generatedTokens.sum()).append('\n');
        header(out, "jgpt_queue_depth", "gauge", "Requests waiting to join the batch.");
        out.append("jgpt_queue_depth ").append(queueDepth.getAsInt()).append('\n');
        header(out, "jgpt_running_sequences", "gauge", "Sequences in the batch, decoding or reading their prompt.");
        out.append("jgpt_running_sequences ").append(runningSequences.getAsInt()).append('\n');
        header(out, "jgpt_batch_size", "histogram", "Sequences in the batch at each step.");
        batchSize.write(out, "jgpt_batch_size", "");
        header(out, "jgpt_step_duration_seconds", "histogram", "Time of one step of the batch (one forward pass).");
        stepSeconds.write(out, "jgpt_step_duration_seconds", "");
        header(out, "jgpt_time_to_first_token_seconds", "histogram", "Time from a generation request's arrival to its first text.");
        firstToken.write(out, "jgpt_time_to_first_token_seconds", "");
        return out.toString();
    }

    private static void header(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static String number(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value)
                : String.format(Locale.ROOT, "%s", value);
    }
}
