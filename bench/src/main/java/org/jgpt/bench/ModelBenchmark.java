package org.jgpt.bench;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.jgpt.kernel.DType;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.GPT2Weights;
import org.jgpt.model.KVCache;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The whole GPT-2 124M forward pass (random weights): one decode step after a 64-token context (the cache is
 * rewound before each step, so every step sees the same context), and the prefill of a 512-token prompt.
 * Tokens per second = 1000 / decodeStep ms, and 512 × 1000 / prefill ms.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ModelBenchmark {
    static final int CONTEXT = 64, PROMPT = 512;

    @Param({"F32", "BF16"})
    public DType dtype;

    GPT2Weights weights;
    GPT2Model model;
    KVCache[] decodeCache, prefillCache;
    int[][] nextToken = {{464}};
    int[][] prompt = new int[1][PROMPT];
    float[] logits;

    @Setup(Level.Trial)
    public void setUp() {
        weights = GPT2Weights.random(GPT2Config.preset("gpt2"), 42, dtype);
        model = new GPT2Model(weights);
        logits = new float[weights.config().vocabSize()];
        for (int i = 0; i < PROMPT; i++) prompt[0][i] = (i * 7919) % weights.config().vocabSize();
        decodeCache = new KVCache[] {model.newCache(CONTEXT + 1)};
        int[][] context = {Arrays.copyOf(prompt[0], CONTEXT)};
        model.forward(context, decodeCache, logits);
        prefillCache = new KVCache[] {model.newCache(PROMPT)};
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        weights.close();
    }

    @Benchmark
    public float[] decodeStep() {
        decodeCache[0].truncate(CONTEXT);
        model.forward(nextToken, decodeCache, logits);
        return logits;
    }

    @Benchmark
    public float[] prefill() {
        prefillCache[0].clear();
        model.forward(prompt, prefillCache, logits);
        return logits;
    }
}
