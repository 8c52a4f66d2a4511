package org.jgpt.bench;

import java.util.Arrays;
import java.util.List;
import org.jgpt.kernel.DType;
import org.jgpt.kernel.Matmul;
import org.jgpt.kernel.MemoryBandwidth;
import org.jgpt.kernel.Tensor;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Weights;
import org.jgpt.model.LayerWeights;

/**
 * Where F32 decoding falls short of the bandwidth roofline: GPT-2 124M's decode matvecs (random weights), in
 * decoding's order, against a plain read of the same tensors in the same order and against the probe's one long
 * read, interleaved so that all three see the same state of a shared machine. Prints one line per window of about
 * three seconds: the probe's GB/s, the plain read and the matvecs as fractions of it, and each kind of matrix's
 * matvec time as a fraction of its plain read. Usage: {@code MatvecVersusRead [seconds, default 30]}.
 */
public final class MatvecVersusRead {
    private static final String[] KINDS = {"qkv", "proj", "fc", "fcproj", "lmhead"};
    private static final long WINDOW_NANOS = 3_000_000_000L;

    private MatvecVersusRead() {}

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 30;
        GPT2Config config = GPT2Config.preset("gpt2");
        GPT2Weights weights = GPT2Weights.random(config, 1, DType.F32);
        int c = config.nEmbd(), inner = config.innerDim(), vocab = config.vocabSize();
        float[] x = BenchData.floats(inner, 1), out = new float[vocab];
        long bytes = weights.lmHead().data().byteSize();
        for (LayerWeights layer : weights.layers()) {
            for (Tensor t : List.of(layer.attnWeight(), layer.attnProjWeight(), layer.fcWeight(),
                    layer.fcProjWeight())) {
                bytes += t.data().byteSize();
            }
        }
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
                        for (LayerWeights layer : weights.layers()) {
                            Tensor qkv = layer.attnWeight(), proj = layer.attnProjWeight();
                            Tensor fc = layer.fcWeight(), fcProj = layer.fcProjWeight();
                            nanos[0] += time(plain, qkv, () -> Matmul.forward(out, x, qkv, null, 1, c, 3 * c));
                            nanos[1] += time(plain, proj, () -> Matmul.forward(out, x, proj, null, 1, c, c));
                            nanos[2] += time(plain, fc, () -> Matmul.forward(out, x, fc, null, 1, c, inner));
                            nanos[3] += time(plain, fcProj, () -> Matmul.forward(out, x, fcProj, null, 1, inner, c));
                        }
                        Tensor head = weights.lmHead();
                        nanos[4] += time(plain, head, () -> Matmul.forwardTransposed(out, x, head, 1, c, vocab));
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
