package org.jgpt.train;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.jgpt.kernel.Matmul;
import org.jgpt.kernel.Tensor;
import org.jgpt.model.ElectraConfig;
import org.jgpt.model.EncoderConfig;
import org.jgpt.model.GPT2Config;

/**
 * Times full training steps (forward, backward, clipping, AdamW) on random tokens, as {@code jgpt bench train} does,
 * and the GEMM peak of this machine in the same run, to report model FLOP utilisation.
 */
public final class TrainingBenchmark {
    /** Medians over the timed steps; {@code mfu} is model FLOP/s over {@code gemmGflops}. */
    public record Result(double tokensPerSecond, double secondsPerStep, double modelGflops, double gemmGflops, double mfu) {}

    private TrainingBenchmark() {}

    public static Result run(GPT2Config config, int batch, int seqLen, int steps, long seed) {
        TrainableGPT2 model = new TrainableGPT2(config, batch, seqLen, 0f);
        model.initialize(seed);
        AdamW optimizer = new AdamW(model.parameters(), AdamW.Settings.gpt2());
        SplittableRandom random = new SplittableRandom(seed);
        int rows = batch * seqLen;
        int[] inputs = new int[rows];
        int[] targets = new int[rows];
        double[] seconds = new double[steps];
        for (int step = -1; step < steps; step++) { // step -1 warms up the JIT
            for (int i = 0; i < rows; i++) {
                inputs[i] = random.nextInt(config.vocabSize());
                targets[i] = random.nextInt(config.vocabSize());
            }
            long start = System.nanoTime();
            model.zeroGrad();
            model.forward(inputs, targets, step);
            model.backward(1f);
            optimizer.step(6e-4f, 1f);
            if (step >= 0) seconds[step] = (System.nanoTime() - start) / 1e9;
        }
        Arrays.sort(seconds);
        double perStep = seconds[steps / 2];
        double flops = flopsPerStep(config, batch, seqLen);
        double gemm = gemmGflops();
        double modelGflops = flops / perStep / 1e9;
        return new Result(rows / perStep, perStep, modelGflops, gemm, modelGflops / gemm);
    }

    /**
     * Times masked-LM training steps of an encoder (forward, backward, clipping, AdamW) on random full-length
     * sequences with {@code maskRate} of the positions labelled, dropout 0.1 as in pre-training; as
     * bench/python/torch_roberta_mlm_train_speed.py does in PyTorch. {@code mfu} counts the matmuls that run: the
     * LM head only on the labelled positions.
     */
    public static Result runEncoder(EncoderConfig config, int batch, int seqLen, int steps, double maskRate, long seed) {
        TrainableEncoder model = new TrainableEncoder(config, TrainableEncoder.Heads.maskedLmOnly(), batch, seqLen, 0.1f);
        model.initialize(seed);
        AdamW optimizer = new AdamW(model.parameters(), new AdamW.Settings(0.9f, 0.98f, 1e-6f, 0.01f, true));
        SplittableRandom random = new SplittableRandom(seed);
        int rows = batch * seqLen;
        int[] inputs = new int[rows];
        int[] labels = new int[rows];
        int[] lengths = new int[batch];
        Arrays.fill(lengths, seqLen);
        double[] seconds = new double[steps];
        int labelled = 0;
        for (int step = -1; step < steps; step++) { // step -1 warms up the JIT
            labelled = 0;
            for (int i = 0; i < rows; i++) {
                inputs[i] = 4 + random.nextInt(config.vocabSize() - 4);
                boolean predicted = random.nextDouble() < maskRate;
                labels[i] = predicted ? inputs[i] : TrainableEncoder.IGNORE;
                if (predicted) labelled++;
            }
            long start = System.nanoTime();
            model.zeroGrad();
            model.forward(inputs, lengths, labels, null, step);
            model.backward(1f);
            optimizer.step(1e-4f, 1f);
            if (step >= 0) seconds[step] = (System.nanoTime() - start) / 1e9;
        }
        Arrays.sort(seconds);
        double perStep = seconds[steps / 2];
        double c = config.hiddenSize();
        double matmuls = config.numLayers() * (4.0 * c * c + 2.0 * c * config.intermediateSize()) * rows
                + (c * c + (double) config.vocabSize() * c) * labelled; // the head runs on the labelled rows only
        double flops = 6.0 * matmuls + 12.0 * config.numLayers() * seqLen * c * rows; // attention as in flopsPerStep
        double gemm = gemmGflops();
        double modelGflops = flops / perStep / 1e9;
        return new Result(rows / perStep, perStep, modelGflops, gemm, modelGflops / gemm);
    }

    /**
     * Times ELECTRA's replaced-token detection steps (forward and backward of the generator and the discriminator,
     * clipping, AdamW over both) on random full-length sequences: {@code maskRate} of the positions chosen, 85% of
     * them {@code <mask>} in the generator's input, all then filled by the generator's samples; dropout 0.1 as in
     * pre-training; as bench/python/torch_electra_rtd_train_speed.py does in PyTorch. {@code mfu} counts the matmuls
     * that run: the generator's head only on the chosen positions.
     */
    public static Result runElectra(ElectraConfig discriminator, double generatorWidthRatio, int batch, int seqLen,
                                    int steps, double maskRate, long seed) {
        ElectraConfig generator = discriminator.generator(generatorWidthRatio);
        TrainableElectra model = new TrainableElectra(discriminator, generator, 50f, batch, seqLen, 0.1f);
        model.initialize(seed);
        AdamW optimizer = new AdamW(model.parameters(), new AdamW.Settings(0.9f, 0.999f, 1e-6f, 0.01f, true));
        SplittableRandom random = new SplittableRandom(seed);
        int rows = batch * seqLen;
        int mask = discriminator.vocabSize() - 1;
        int[] original = new int[rows];
        int[] masked = new int[rows];
        int[] labels = new int[rows];
        int[] lengths = new int[batch];
        Arrays.fill(lengths, seqLen);
        double[] seconds = new double[steps];
        int labelled = 0;
        for (int step = -1; step < steps; step++) { // step -1 warms up the JIT
            labelled = 0;
            for (int i = 0; i < rows; i++) {
                original[i] = 4 + random.nextInt(discriminator.vocabSize() - 5);
                boolean chosen = random.nextDouble() < maskRate;
                labels[i] = chosen ? original[i] : TrainableEncoder.IGNORE;
                masked[i] = chosen && random.nextDouble() < 0.85 ? mask : original[i];
                if (chosen) labelled++;
            }
            long start = System.nanoTime();
            model.zeroGrad();
            model.forward(original, masked, lengths, labels, step, true, step);
            model.backward(1f);
            optimizer.step(5e-4f, 1f);
            if (step >= 0) seconds[step] = (System.nanoTime() - start) / 1e9;
        }
        Arrays.sort(seconds);
        double perStep = seconds[steps / 2];
        double flops = electraFlops(generator, rows, seqLen, labelled, true) + electraFlops(discriminator, rows, seqLen, rows, false);
        double gemm = gemmGflops();
        double modelGflops = flops / perStep / 1e9;
        return new Result(rows / perStep, perStep, modelGflops, gemm, modelGflops / gemm);
    }

    /**
     * One ELECTRA model's training FLOPs for a step of {@code rows} tokens, as {@link #flopsPerStep} counts them: the
     * projection and the blocks on every token, the head on {@code headRows} (the generator's dense and tied output
     * layer, or the discriminator's dense and one-logit layer).
     */
    private static double electraFlops(ElectraConfig c, int rows, int seqLen, int headRows, boolean generator) {
        double h = c.hiddenSize(), e = c.embeddingSize();
        double body = (c.projectsEmbeddings() ? e * h : 0) + c.numLayers() * (4.0 * h * h + 2.0 * h * c.intermediateSize());
        double head = generator ? h * e + (double) c.vocabSize() * e : h * h + h;
        return 6.0 * (body * rows + head * headRows) + 12.0 * c.numLayers() * seqLen * h * rows;
    }

    /**
     * Training FLOPs per step, as in the PaLM paper's MFU: 6 per parameter per token for the matmuls (forward 2,
     * backward 4; the tied LM head counted, position embeddings not), plus 12·T·C per layer per token for attention's
     * two T×T products, forward and backward.
     */
    static double flopsPerStep(GPT2Config c, int batch, int seqLen) {
        double matmulParams = (double) c.nLayer() * (4.0 * c.nEmbd() * c.nEmbd() + 2.0 * c.nEmbd() * c.innerDim())
                + (double) c.vocabSize() * c.nEmbd();
        double attention = 12.0 * c.nLayer() * seqLen * c.nEmbd();
        return (6.0 * matmulParams + attention) * batch * seqLen;
    }

    /** GFLOP/s of Matmul.forward on GPT-2's MLP shape (1024 × 768 × 3072), best of several runs. */
    static double gemmGflops() {
        int m = 1024;
        int k = 768;
        int n = 3072;
        SplittableRandom random = new SplittableRandom(1);
        float[] a = new float[m * k];
        float[] w = new float[k * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) random.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = (float) random.nextGaussian();
        float[] out = new float[m * n];
        Tensor weight = Tensor.of("w", w, k, n);
        double best = Double.MAX_VALUE;
        for (int run = 0; run < 15; run++) {
            long start = System.nanoTime();
            Matmul.forward(out, a, weight, null, m, k, n);
            best = Math.min(best, (System.nanoTime() - start) / 1e9);
        }
        return 2.0 * m * k * n / best / 1e9;
    }
}
