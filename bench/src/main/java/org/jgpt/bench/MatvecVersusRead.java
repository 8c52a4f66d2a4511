package org.jgpt.bench;

import java.util.Arrays;
import java.util.List;
import org.jgpt.kernel.DType;
import org.jgpt.kernel.Matmul;
import org.jgpt.kernel.MemoryBandwidth;
import org.jgpt.kernel.Tensor;
import org.jgpt.kernel.WeightMatrix;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Weights;
import org.jgpt.model.LayerWeights;

/**
 * Where F32 decoding falls short of the bandwidth roofline: GPT-2 124M's decode matvecs (random weights), in
 * decoding's order, against a plain read of the same tensors in the same order and against the probe's one long
 * read, interleaved so that all three see the same state of a shared machine. Prints one line per window of about
 * three seconds: the probe's GB/s, the plain read and the matvecs as fractions of it, and each kind of matrix's
 * matvec time as a fraction of its plain read. The matvecs read {@link WeightMatrix}es, as the model does (F32 in
 * panels); the plain read, the checkpoint's tensors, of the same size. Usage:
 * {@code MatvecVersusRead [seconds, default 30]}.
 */
public final class MatvecVersusRead {
    private static final String[] KINDS = {"qkv", "proj", "fc", "fcproj", "lmhead"};
    private static final long WINDOW_NANOS = 3_000_000_000L;

    private MatvecVersusRead() {}

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 30;
        GPT2Config config = GPT2Config.preset("gpt2");
        GPT2Weights weights = GPT2Weights.random(config, 1, DType.F32);
        float[] x = BenchData.floats(config.innerDim(), 1), out = new float[config.vocabSize()];
        long bytes = weights.lmHead().data().byteSize();
        for (LayerWeights layer : weights.layers()) {
            for (Tensor t : List.of(layer.attnWeight(), layer.attnProjWeight(), layer.fcWeight(),
                    layer.fcProjWeight())) {
                bytes += t.data().byteSize();
            }
        }
        List<LayerWeights> layers = weights.layers();
        WeightMatrix[][] matrices = new WeightMatrix[layers.size()][];
        for (int l = 0; l < layers.size(); l++) {
            LayerWeights layer = layers.get(l);
            matrices[l] = new WeightMatrix[] {WeightMatrix.of(layer.attnWeight()),
                    WeightMatrix.of(layer.attnProjWeight()), WeightMatrix.of(layer.fcWeight()),
                    WeightMatrix.of(layer.fcProjWeight())};
        }
        WeightMatrix head = WeightMatrix.ofTransposed(weights.lmHead());
        try (MemoryBandwidth probe = new MemoryBandwidth(bytes)) {
            long end = System.nanoTime() + (long) (seconds * 1e9);
            boolean warm = false;
            while (System.nanoTime() < end) {
                long[] matvec = new long[KINDS.length], read = new long[KINDS.length];
                double probeSeconds = 0;
                int steps = 0;
                for (long start = System.nanoTime(); System.nanoTime() - start < WINDOW_NANOS; steps++) {
                    probeSeconds += probe.read();
                    // All the matvecs, then all the reads: each streams 500 MB, so neither finds the other's bytes
                    // in cache.
                    for (boolean plain : new boolean[] {false, true}) {
                        long[] nanos = plain ? read : matvec;
                        for (int l = 0; l < layers.size(); l++) {
                            LayerWeights layer = layers.get(l);
                            WeightMatrix[] m = matrices[l];
                            nanos[0] += time(plain, layer.attnWeight(), () -> Matmul.forward(out, x, m[0], null, 1));
                            nanos[1] += time(plain, layer.attnProjWeight(),
                                    () -> Matmul.forward(out, x, m[1], null, 1));
                            nanos[2] += time(plain, layer.fcWeight(), () -> Matmul.forward(out, x, m[2], null, 1));
                            nanos[3] += time(plain, layer.fcProjWeight(), () -> Matmul.forward(out, x, m[3], null, 1));
                        }
                        nanos[4] += time(plain, weights.lmHead(), () -> Matmul.forward(out, x, head, null, 1));
                    }
                }
                if (!warm) { // the first window compiles the loops
                    warm = true;
                    continue;
                }
                double probeRate = probe.bytes() * steps / probeSeconds;
                double readShare = bytes * steps / (Arrays.stream(read).sum() / 1e9) / probeRate;
                double matvecShare = bytes * steps / (Arrays.stream(matvec).sum() / 1e9) / probeRate;
                StringBuilder line = new StringBuilder(String.format(
                        "probe %.1f GB/s, plain read %.2f of it, matvecs %.2f; matvec/read:", probeRate / 1e9,
                        readShare, matvecShare));
                for (int k = 0; k < KINDS.length; k++) {
                    line.append(String.format(" %s %.2f", KINDS[k], (double) read[k] / matvec[k]));
                }
                System.out.println(line);
            }
        }
    }

    /** Nanoseconds of {@code product}, or of a plain read of {@code weight}. */
    private static long time(boolean plain, Tensor weight, Runnable product) {
        if (plain) return (long) (MemoryBandwidth.read(weight.data()) * 1e9);
        long start = System.nanoTime();
        product.run();
        return System.nanoTime() - start;
    }
}
