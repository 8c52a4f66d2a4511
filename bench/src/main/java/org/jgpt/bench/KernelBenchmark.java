package org.jgpt.bench;

import java.util.concurrent.TimeUnit;
import org.jgpt.kernel.Activations;
import org.jgpt.kernel.Attention;
import org.jgpt.kernel.DType;
import org.jgpt.kernel.Embedding;
import org.jgpt.kernel.Norms;
import org.jgpt.kernel.Tensor;
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

/**
 * The other kernels on GPT-2 124M shapes: {@code rows} = 1024 is a full-context prefill, 1 a decode step
 * (attention then reads a full 1024-position cache).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class KernelBenchmark {
    static final int CONTEXT = 1024, DIM = 768, HIDDEN = 3072, HEADS = 12, HEAD_DIM = 64, VOCAB = 50257;

    @Param({"1", "1024"})
    public int rows;

    float[] x, gamma, beta, out, hidden, scores, q, keys, values, attnOut;
    int[] tokens, positions;
    Tensor wte, wpe;

    @Setup(Level.Trial)
    public void setUp() {
        x = BenchData.floats(rows * DIM, 1);
        gamma = BenchData.floats(DIM, 2);
        beta = BenchData.floats(DIM, 3);
        out = new float[rows * DIM];
        hidden = BenchData.floats(rows * HIDDEN, 4);
        scores = BenchData.floats(rows * CONTEXT, 5);
        q = BenchData.floats(rows * DIM, 6);
        keys = BenchData.floats(CONTEXT * DIM, 7);
        values = BenchData.floats(CONTEXT * DIM, 8);
        attnOut = new float[rows * DIM];
        tokens = new int[rows];
        positions = new int[rows];
        for (int i = 0; i < rows; i++) {
            tokens[i] = (i * 7919) % VOCAB;
            positions[i] = CONTEXT - rows + i;
        }
        wte = BenchData.tensor(DType.BF16, BenchData.floats(VOCAB * DIM, 9), VOCAB, DIM);
        wpe = BenchData.tensor(DType.BF16, BenchData.floats(CONTEXT * DIM, 10), CONTEXT, DIM);
    }

    @Benchmark
    public float[] layerNorm() {
        Norms.layerNorm(out, x, gamma, beta, rows, DIM, 1e-5f);
        return out;
    }

    @Benchmark
    public float[] gelu() {
        Activations.gelu(hidden, hidden, rows * HIDDEN);
        return hidden;
    }

    /** One softmax per row over a full context of scores, as attention does. */
    @Benchmark
    public float[] softmax() {
        for (int r = 0; r < rows; r++) Activations.softmax(scores, r * CONTEXT, CONTEXT);
        return scores;
    }

    /** The last {@code rows} positions of a full 1024-position context. */
    @Benchmark
    public float[] attention() {
        Attention.causal(attnOut, 0, DIM, q, 0, DIM, keys, values, rows, CONTEXT - rows, HEADS, HEAD_DIM,
                (float) (1 / Math.sqrt(HEAD_DIM)));
        return attnOut;
    }

    @Benchmark
    public float[] embedding() {
        Embedding.forward(out, tokens, positions, wte, wpe, rows, DIM);
        return out;
    }
}
