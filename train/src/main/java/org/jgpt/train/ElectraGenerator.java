package org.jgpt.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.jgpt.kernel.Activations;
import org.jgpt.kernel.Backprop;
import org.jgpt.kernel.Matmul;
import org.jgpt.model.ElectraConfig;

/**
 * ELECTRA's generator, Hugging Face's ElectraForMaskedLM: an {@link ElectraEncoder}, then on the positions that have
 * a label only, {@code generator_predictions} (dense from the hidden width to the embedding width, exact GELU, LayerNorm)
 * and {@code generator_lm_head} (the word embeddings, tied, plus a bias), and the mean cross-entropy. It also draws
 * replacements from its own distribution at those positions, for the discriminator.
 */
final class ElectraGenerator {
    private final ElectraConfig config;
    private final ElectraEncoder encoder;
    private final Parameter word; // the shared word embeddings, the tied output layer
    private final Parameter dense, denseBias, lnWeight, lnBias, outputBias;
    private final int rows;
    private final int[] labelledRows, targets;
    private int labelled;
    private final float[] in, hidden, activated, normed, mean, rstd, losses;
    private final float[] probabilities; // of the labelled rows; then their logits' gradient
    private final float[] dIn, dHidden, dActivated, dNormed, dOutput;
    private boolean pending; // a forward awaits its backward

    ElectraGenerator(ElectraConfig config, ElectraEncoder.Embeddings embeddings, int batch, int seqLen, float dropout) {
        this.config = config;
        this.encoder = new ElectraEncoder("generator", config, embeddings, batch, seqLen, dropout);
        this.word = embeddings.word();
        int e = config.embeddingSize();
        int h = config.hiddenSize();
        dense = new Parameter("generator_predictions.dense.weight", h, e);
        denseBias = new Parameter("generator_predictions.dense.bias", e);
        lnWeight = new Parameter("generator_predictions.LayerNorm.weight", e);
        lnBias = new Parameter("generator_predictions.LayerNorm.bias", e);
        outputBias = new Parameter("generator_lm_head.bias", config.vocabSize());
        rows = batch * seqLen;
        labelledRows = new int[rows];
        targets = new int[rows];
        in = new float[rows * h];
        hidden = new float[rows * e];
        activated = new float[rows * e];
        normed = new float[rows * e];
        mean = new float[rows];
        rstd = new float[rows];
        losses = new float[rows];
        probabilities = new float[rows * config.vocabSize()];
        dIn = new float[rows * h];
        dHidden = new float[rows * e];
        dActivated = new float[rows * e];
        dNormed = new float[rows * e];
        dOutput = new float[rows * h];
    }

    /** Its own parameters, not the shared embeddings. */
    List<Parameter> parameters() {
        List<Parameter> all = new ArrayList<>(encoder.parameters());
        all.addAll(List.of(dense, denseBias, lnWeight, lnBias, outputBias));
        return all;
    }

    /**
     * The mean cross-entropy over the positions whose {@code labels} entry is a token id (0 when there is none),
     * on {@code inputs} as masked; keeps the distribution at those positions for {@link #sample}.
     */
    float forward(int[] inputs, int[] lengths, int[] labels, boolean training, long seed) {
        float[] out = encoder.encode(inputs, lengths, training, seed);
        int h = config.hiddenSize(), e = config.embeddingSize(), v = config.vocabSize();
        labelled = 0;
        for (int r = 0; r < rows; r++) {
            if (labels[r] < 0) continue;
            if (labels[r] >= v) throw new IllegalArgumentException("label " + labels[r] + " out of range");
            labelledRows[labelled] = r;
            targets[labelled++] = labels[r];
        }
        pending = true;
        if (labelled == 0) return 0f;
        int n = labelled;
        for (int i = 0; i < n; i++) System.arraycopy(out, labelledRows[i] * h, in, i * h, h);
        Matmul.forward(hidden, in, dense.tensor(), denseBias.value(), n, h, e);
        Activations.geluErf(activated, hidden, n * e); // ElectraGeneratorPredictions' GELU is exact whatever hidden_act
        Backprop.layerNormForward(normed, mean, rstd, activated, lnWeight.value(), lnBias.value(), n, e, config.layerNormEps());
        Matmul.forwardTransposed(probabilities, normed, word.tensor(), n, e, v);
        for (int i = 0; i < n; i++) Activations.add(probabilities, i * v, outputBias.value(), 0, v);
        return Backprop.crossEntropyForward(losses, probabilities, targets, n, v);
    }

    /**
     * Writes over {@code tokens}, at each labelled position of the last forward, a token drawn from the generator's
     * softmax there (temperature 1, the whole vocabulary, as ELECTRA), one uniform of {@code random} per position.
     */
    void sample(int[] tokens, SplittableRandom random) {
        if (!pending) throw new IllegalStateException("sample() needs a forward() first, before backward()");
        int v = config.vocabSize();
        for (int i = 0; i < labelled; i++) {
            int base = i * v;
            double total = 0;
            for (int t = 0; t < v; t++) total += probabilities[base + t];
            double u = random.nextDouble() * total;
            int chosen = v - 1;
            double cumulative = 0;
            for (int t = 0; t < v; t++) {
                cumulative += probabilities[base + t];
                if (u < cumulative) {
                    chosen = t;
                    break;
                }
            }
            tokens[labelledRows[i]] = chosen;
        }
    }

    /** How many labelled positions of the last forward it ranked first. */
    int correct() {
        int v = config.vocabSize();
        int correct = 0;
        for (int i = 0; i < labelled; i++) {
            int best = 0;
            for (int t = 1; t < v; t++) if (probabilities[i * v + t] > probabilities[i * v + best]) best = t;
            if (best == targets[i]) correct++;
        }
        return correct;
    }

    /** How many positions of the last forward had a label. */
    int labelled() {
        return labelled;
    }

    /** Accumulates the gradient of {@code lossScale} × the last forward's loss. */
    void backward(float lossScale) {
        if (!pending) throw new IllegalStateException("backward() needs a forward() first");
        pending = false;
        int h = config.hiddenSize(), e = config.embeddingSize(), v = config.vocabSize();
        int n = labelled;
        Arrays.fill(dOutput, 0f);
        if (n > 0) {
            float[] dLogits = probabilities;
            Backprop.crossEntropyBackward(dLogits, targets, n, v, lossScale);
            Backprop.biasGradient(outputBias.grad(), dLogits, n, v);
            Matmul.forward(dNormed, dLogits, word.tensor(), null, n, v, e);
            Matmul.backwardWeight(word.grad(), dLogits, normed, n, v, e); // the tied output layer
            Arrays.fill(dActivated, 0, n * e, 0f);
            Backprop.layerNormBackward(dActivated, lnWeight.grad(), lnBias.grad(), dNormed, activated, lnWeight.value(),
                    mean, rstd, n, e);
            Arrays.fill(dHidden, 0, n * e, 0f);
            Backprop.geluErfBackward(dHidden, hidden, dActivated, n * e);
            Matmul.backwardWeight(dense.grad(), in, dHidden, n, h, e);
            Backprop.biasGradient(denseBias.grad(), dHidden, n, e);
            Matmul.backwardInput(dIn, dHidden, dense.tensor(), n, h, e);
            for (int i = 0; i < n; i++) System.arraycopy(dIn, i * h, dOutput, labelledRows[i] * h, h);
        }
        encoder.backward(dOutput);
    }

    /**
     * ElectraForMaskedLM's tensors. {@code generator_lm_head.weight} is left out, tied to the word embeddings, as
     * transformers' save_pretrained leaves it out.
     */
    List<HfTensor> huggingFaceLayout() {
        List<HfTensor> layout = new ArrayList<>(encoder.huggingFaceLayout());
        layout.addAll(HfTensor.linear("generator_predictions.dense", dense, denseBias));
        layout.add(HfTensor.whole(lnWeight.name(), lnWeight));
        layout.add(HfTensor.whole(lnBias.name(), lnBias));
        layout.add(HfTensor.whole(outputBias.name(), outputBias));
        return layout;
    }
}
