package org.jgpt.bench;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.jgpt.kernel.DType;
import org.jgpt.kernel.Matmul;
import org.jgpt.kernel.WeightMatrix;
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
 * The matrix-vector products of one GPT-2 124M decode step (one position): per layer the QKV, attention output,
 * MLP up and MLP down projections, then the tied LM head, with weights of the given dtype. The weights (about
 * 124M parameters) are far larger than L3, so this streams them from memory; its time is the floor on a
 * token's latency. {@link Report} turns it into GB/s and compares it with {@link BandwidthBenchmark}. The weights
 * are {@link WeightMatrix}es, as the model holds them (F32 in panels).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class DecodeBenchmark {
    static final int LAYERS = 12, DIM = 768, HIDDEN = 3072, VOCAB = 50257;

    @Param({"F32", "F16", "BF16"})
    public DType dtype;

    Arena arena;
    WeightMatrix[] qkv, attnProj, fc, mlpProj;
    WeightMatrix lmHead;
    float[] x = BenchData.floats(DIM, 7), hidden = BenchData.floats(HIDDEN, 8);
    float[] qkvOut = new float[3 * DIM], out = new float[DIM], fcOut = new float[HIDDEN], logits = new float[VOCAB];

    /** Weight bytes one decode step reads. */
    static long weightBytes(DType dtype) {
        long perLayer = (long) DIM * 3 * DIM + (long) DIM * DIM + 2L * DIM * HIDDEN;
        return (LAYERS * perLayer + (long) VOCAB * DIM) * dtype.bytes;
    }

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        qkv = new WeightMatrix[LAYERS];
        attnProj = new WeightMatrix[LAYERS];
        fc = new WeightMatrix[LAYERS];
        mlpProj = new WeightMatrix[LAYERS];
        for (int l = 0; l < LAYERS; l++) {
            qkv[l] = WeightMatrix.of(BenchData.tensor(arena, dtype, 4 * l, DIM, 3 * DIM));
            attnProj[l] = WeightMatrix.of(BenchData.tensor(arena, dtype, 4 * l + 1, DIM, DIM));
            fc[l] = WeightMatrix.of(BenchData.tensor(arena, dtype, 4 * l + 2, DIM, HIDDEN));
            mlpProj[l] = WeightMatrix.of(BenchData.tensor(arena, dtype, 4 * l + 3, HIDDEN, DIM));
        }
        lmHead = WeightMatrix.ofTransposed(BenchData.tensor(arena, dtype, 99, VOCAB, DIM));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] step() {
        for (int l = 0; l < LAYERS; l++) {
            Matmul.forward(qkvOut, x, qkv[l], null, 1);
            Matmul.forward(out, x, attnProj[l], null, 1);
            Matmul.forward(fcOut, x, fc[l], null, 1);
            Matmul.forward(out, hidden, mlpProj[l], null, 1);
        }
        Matmul.forward(logits, x, lmHead, null, 1);
        return logits;
    }

    /** The LM head alone (a third of the weight bytes), to tell its share of {@link #step} apart. */
    @Benchmark
    public float[] lmHead() {
        Matmul.forward(logits, x, lmHead, null, 1);
        return logits;
    }
}
