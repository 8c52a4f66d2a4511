package org.jgpt.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jgpt.kernel.Activations;
import org.jgpt.kernel.Backprop;
import org.jgpt.kernel.Matmul;
import org.jgpt.model.ElectraConfig;

/**
 * ELECTRA's discriminator, Hugging Face's ElectraForPreTraining: an {@link ElectraEncoder}, then at every position
 * {@code discriminator_predictions} (dense, the model's activation, {@code dense_prediction} to one logit): is this
 * token the original or a replacement? The loss is the mean binary cross-entropy with logits over each sequence's
 * tokens, padding excluded (Hugging Face's loss under an attention mask).
 */
final class ElectraDiscriminator {
    private final ElectraConfig config;
    private final ElectraEncoder encoder;
    private final Parameter dense, denseBias, prediction, predictionBias;
    private final int batch, seqLen, rows;
    private final int[] lengths;
    private final int[] replaced; // 1 where the input is not the original token
    private final float[] hidden, activated, logits;
    private final float[] dLogits, dActivated, dHidden, dOutput;
    private int active;
    private boolean pending; // a forward awaits its backward

    ElectraDiscriminator(ElectraConfig config, ElectraEncoder.Embeddings embeddings, int batch, int seqLen, float dropout) {
        this.config = config;
        this.encoder = new ElectraEncoder("discriminator", config, embeddings, batch, seqLen, dropout);
        int h = config.hiddenSize();
        dense = new Parameter("discriminator_predictions.dense.weight", h, h);
        denseBias = new Parameter("discriminator_predictions.dense.bias", h);
        prediction = new Parameter("discriminator_predictions.dense_prediction.weight", h, 1);
        predictionBias = new Parameter("discriminator_predictions.dense_prediction.bias", 1);
        this.batch = batch;
        this.seqLen = seqLen;
        this.rows = batch * seqLen;
        lengths = new int[batch];
        replaced = new int[rows];
        hidden = new float[rows * h];
        activated = new float[rows * h];
        logits = new float[rows];
        dLogits = new float[rows];
        dActivated = new float[rows * h];
        dHidden = new float[rows * h];
        dOutput = new float[rows * h];
    }

    /** Its own parameters, not the shared embeddings. */
    List<Parameter> parameters() {
        List<Parameter> all = new ArrayList<>(encoder.parameters());
        all.addAll(List.of(dense, denseBias, prediction, predictionBias));
        return all;
    }

    /**
     * The mean binary cross-entropy of telling, at each non-padding position of {@code inputs}, whether its token
     * differs from {@code original}'s there. A sampled token equal to the original is thus an original, as ELECTRA
     * labels it.
     */
    float forward(int[] inputs, int[] original, int[] lengthsIn, boolean training, long seed) {
        float[] out = encoder.encode(inputs, lengthsIn, training, seed);
        System.arraycopy(lengthsIn, 0, lengths, 0, batch);
        for (int r = 0; r < rows; r++) replaced[r] = inputs[r] != original[r] ? 1 : 0;
        int h = config.hiddenSize();
        Matmul.forward(hidden, out, dense.tensor(), denseBias.value(), rows, h, h);
        if (config.exactGelu()) Activations.geluErf(activated, hidden, rows * h);
        else Activations.gelu(activated, hidden, rows * h);
        float[] w = prediction.value();
        active = 0;
        double total = 0;
        for (int r = 0; r < rows; r++) {
            float x = predictionBias.value()[0];
            for (int i = 0; i < h; i++) x += activated[r * h + i] * w[i];
            logits[r] = x;
            if (r % seqLen >= lengths[r / seqLen]) continue;
            // max(x, 0) − x·y + log(1 + e^−|x|): BCEWithLogitsLoss, stable for any x
            total += Math.max(x, 0) - x * replaced[r] + Math.log1p(Math.exp(-Math.abs(x)));
            active++;
        }
        pending = true;
        return (float) (total / active);
    }

    /** The last forward's logits, one per position (padding's too); a live view. */
    float[] logits() {
        return logits;
    }

    /** The last forward's targets, 1 where the token was replaced; a live view. */
    int[] replaced() {
        return replaced;
    }

    /** Whether position {@code row} of the last forward is a token rather than padding. */
    boolean active(int row) {
        return row % seqLen < lengths[row / seqLen];
    }

    /** Accumulates the gradient of {@code lossScale} × the last forward's loss. */
    void backward(float lossScale) {
        if (!pending) throw new IllegalStateException("backward() needs a forward() first");
        pending = false;
        int h = config.hiddenSize();
        float scale = lossScale / active;
        for (int r = 0; r < rows; r++) {
            dLogits[r] = active(r) ? scale * (float) (1 / (1 + Math.exp(-logits[r])) - replaced[r]) : 0f;
        }
        float[] w = prediction.value(), dW = prediction.grad();
        for (int r = 0; r < rows; r++) {
            float d = dLogits[r];
            predictionBias.grad()[0] += d;
            for (int i = 0; i < h; i++) {
                dW[i] += activated[r * h + i] * d;
                dActivated[r * h + i] = w[i] * d;
            }
        }
        Arrays.fill(dHidden, 0f);
        if (config.exactGelu()) Backprop.geluErfBackward(dHidden, hidden, dActivated, rows * h);
        else Backprop.geluBackward(dHidden, hidden, dActivated, rows * h);
        float[] out = encoder.output();
        Matmul.backwardWeight(dense.grad(), out, dHidden, rows, h, h);
        Backprop.biasGradient(denseBias.grad(), dHidden, rows, h);
        Matmul.backwardInput(dOutput, dHidden, dense.tensor(), rows, h, h);
        encoder.backward(dOutput);
    }

    /** ElectraForPreTraining's tensors. */
    List<HfTensor> huggingFaceLayout() {
        List<HfTensor> layout = new ArrayList<>(encoder.huggingFaceLayout());
        layout.addAll(HfTensor.linear("discriminator_predictions.dense", dense, denseBias));
        layout.addAll(HfTensor.linear("discriminator_predictions.dense_prediction", prediction, predictionBias));
        return layout;
    }
}
