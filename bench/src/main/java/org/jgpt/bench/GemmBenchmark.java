package org.jgpt.bench;

import static org.bytedeco.openblas.global.openblas_full.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_full.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_full.CblasTrans;
import static org.bytedeco.openblas.global.openblas_full.cblas_sgemm;
import static org.bytedeco.openblas.global.openblas_full.openblas_set_num_threads;

import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.jgpt.kernel.DType;
import org.jgpt.kernel.Matmul;
import org.jgpt.kernel.Parallel;
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
import org.openjdk.jmh.annotations.TearDown;

/**
 * GEMM on GPT-2 124M's prefill shapes (1024 positions), jgpt against OpenBLAS sgemm on the same operands and
 * the same number of threads. {@code shape} is M x K x N; a trailing T means the weight is stored [N, K]
 * (the tied LM head, {@link Matmul#forwardTransposed}). GFLOP/s = 2 M K N / time; {@link Report} prints them.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GemmBenchmark {
    @Param({"1024x768x2304", "1024x768x768", "1024x768x3072", "1024x3072x768", "1024x768x50257T"})
    public String shape;

    int m, k, n;
    boolean transposed;
    float[] a, c;
    Tensor weight, weightBf16;
    FloatPointer nativeA, nativeB, nativeC;

    @Setup(Level.Trial)
    public void setUp() {
        transposed = shape.endsWith("T");
        String[] dims = shape.replace("T", "").split("x");
        m = Integer.parseInt(dims[0]);
        k = Integer.parseInt(dims[1]);
        n = Integer.parseInt(dims[2]);
        a = BenchData.floats(m * k, 1);
        c = new float[m * n];
        float[] b = BenchData.floats(k * n, 2);
        long[] weightShape = transposed ? new long[] {n, k} : new long[] {k, n};
        weight = Tensor.of("b", b, weightShape);
        weightBf16 = BenchData.tensor(DType.BF16, b, weightShape);
        nativeA = new FloatPointer(a);
        nativeB = new FloatPointer(b);
        nativeC = new FloatPointer((long) m * n);
        openblas_set_num_threads(Parallel.threads());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        nativeA.close();
        nativeB.close();
        nativeC.close();
    }

    @Benchmark
    public float[] jgpt() {
        return multiply(weight);
    }

    @Benchmark
    public float[] jgptBf16() {
        return multiply(weightBf16);
    }

    private float[] multiply(Tensor w) {
        if (transposed) Matmul.forwardTransposed(c, a, w, m, k, n);
        else Matmul.forward(c, a, w, null, m, k, n);
        return c;
    }

    @Benchmark
    public FloatPointer openblas() {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, transposed ? CblasTrans : CblasNoTrans, m, n, k,
                1f, nativeA, k, nativeB, transposed ? k : n, 0f, nativeC, n);
        return nativeC;
    }
}
