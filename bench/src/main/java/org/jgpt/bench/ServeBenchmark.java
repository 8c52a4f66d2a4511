package org.jgpt.bench;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jgpt.io.Json;
import org.jgpt.kernel.DType;
import org.jgpt.kernel.Parallel;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.GPT2Weights;
import org.jgpt.server.Server;
import org.jgpt.tokenizer.GPT2Tokenizer;

/**
 * The server under concurrent clients: GPT-2 124M shapes with random weights (F32) served in-process on 127.0.0.1,
 * then for each concurrency level, that many clients each sending {@code requests} completions one after another
 * (64 greedy tokens by default, different short prompts). Prints a JSON line per level: aggregate generated tokens
 * per second over the level's wall time, median and 90th-percentile request latency; then each level against one
 * client. Threads: JGPT_THREADS (bench/compare.sh sets 2). One untimed round first, for the JIT.
 *
 * <p>Usage: {@code ServeBenchmark [--clients 1,4,8] [--tokens 64] [--requests 4] [--preset gpt2]}
 */
public final class ServeBenchmark {
    private ServeBenchmark() {}

    private record Level(int clients, int requests, long tokens, double seconds, double medianLatency, double p90Latency) {
        double tokensPerSecond() {
            return tokens / seconds;
        }
    }

    public static void main(String[] args) throws Exception {
        List<Integer> levels = List.of(1, 4, 8);
        int tokens = 64, requests = 4;
        String preset = "gpt2";
        for (int i = 0; i < args.length; i += 2) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            if (value == null) throw new IllegalArgumentException(args[i] + " needs a value");
            switch (args[i]) {
                case "--clients" -> levels = java.util.Arrays.stream(value.split(",")).map(Integer::parseInt).toList();
                case "--tokens" -> tokens = Integer.parseInt(value);
                case "--requests" -> requests = Integer.parseInt(value);
                case "--preset" -> preset = value;
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (usage: [--clients 1,4,8] [--tokens 64] [--requests 4] [--preset gpt2])");
            }
        }
        try (GPT2Weights weights = GPT2Weights.random(GPT2Config.preset(preset), 1234, DType.F32);
             Server server = Server.start(new GPT2Model(weights), GPT2Tokenizer.gpt2(), preset,
                     new InetSocketAddress("127.0.0.1", 0), Server.Options.defaults().withAccessLog(null))) {
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/completions");
            HttpClient client = HttpClient.newBuilder().executor(Executors.newVirtualThreadPerTaskExecutor()).build();
            run(client, uri, 2, 1, tokens, preset); // untimed: the JIT
            List<Level> results = new ArrayList<>();
            for (int clients : levels) {
                Level level = run(client, uri, clients, requests, tokens, preset);
                results.add(level);
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("mode", "serve");
                line.put("model", preset + " (random)");
                line.put("threads", Parallel.threads());
                line.put("clients", clients);
                line.put("requests", level.clients() * level.requests());
                line.put("max_tokens", tokens);
                line.put("generated_tokens", level.tokens());
                line.put("seconds", round(level.seconds()));
                line.put("tokens_per_second", round(level.tokensPerSecond()));
                line.put("median_latency_seconds", round(level.medianLatency()));
                line.put("p90_latency_seconds", round(level.p90Latency()));
                System.out.println(Json.write(line));
            }
            Level one = results.getFirst();
            for (Level level : results) {
                System.out.printf("%d clients: %.1f tokens/s (%.2fx one client's), median latency %.2f s (%.2fx)%n",
                        level.clients(), level.tokensPerSecond(), level.tokensPerSecond() / one.tokensPerSecond(),
                        level.medianLatency(), level.medianLatency() / one.medianLatency());
            }
        }
    }

    /** {@code clients} clients, each sending {@code requests} completions in turn. */
    private static Level run(HttpClient client, URI uri, int clients, int requests, int tokens, String preset)
            throws Exception {
        List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
        long[] generated = new long[clients];
        long start = System.nanoTime();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int id = c;
                running.add(pool.submit(() -> {
                    for (int r = 0; r < requests; r++) {
                        String body = Json.write(Map.of("model", preset, "prompt",
                                "Client " + id + " asks question " + r + ": what comes next in this story?",
                                "max_tokens", tokens, "temperature", 0));
                        long sent = System.nanoTime();
                        HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri)
                                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                        if (response.statusCode() != 200) throw new IllegalStateException(response.body());
                        latencies.add((System.nanoTime() - sent) / 1e9);
                        Map<?, ?> usage = (Map<?, ?>) Json.parseObject(response.body()).get("usage");
                        generated[id] += ((Number) usage.get("completion_tokens")).longValue();
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) f.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        List<Double> sorted = latencies.stream().sorted().toList();
        long total = 0;
        for (long g : generated) total += g;
        return new Level(clients, requests, total, seconds, percentile(sorted, 0.5), percentile(sorted, 0.9));
    }

    private static double percentile(List<Double> sorted, double q) {
        double at = q * (sorted.size() - 1);
        int low = (int) Math.floor(at), high = (int) Math.ceil(at);
        return sorted.get(low) + (sorted.get(high) - sorted.get(low)) * (at - low);
    }

    private static double round(double x) {
        return Math.round(x * 1000) / 1000.0;
    }
}
