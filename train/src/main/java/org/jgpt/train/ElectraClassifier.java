package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.jgpt.kernel.Activations;
import org.jgpt.kernel.Backprop;
import org.jgpt.kernel.Matmul;
import org.jgpt.model.ElectraConfig;

/**
 * ELECTRA fine-tuned for a sentence task, Hugging Face's ElectraForSequenceClassification: an {@link ElectraEncoder}
 * (ElectraModel, {@code electra.*}), then ElectraClassificationHead on the first token's final hidden state: dropout,
 * {@code classifier.dense}, GELU, dropout, {@code classifier.out_proj}. The head's GELU is the exact one whatever
 * hidden_act, as Hugging Face's head asks for "gelu" by name. Made from any ELECTRA folder, usually the discriminator
 * of an rtd run (ElectraForPreTraining, whose {@code discriminator_predictions} it leaves out).
 */
public final class ElectraClassifier implements SequenceClassifier {
    private static final String HEAD = "classifier";

    private final ElectraConfig config;
    private final ElectraEncoder.Embeddings embeddings;
    private final ElectraEncoder encoder;
    private final Parameter dense, denseBias, outProj, outProjBias;
    private final List<Parameter> parameters = new ArrayList<>();
    private final List<HfTensor> layout = new ArrayList<>();
    private final int batch, seqLen, classes;
    private final float dropout;

    // the head's activations, one row per sequence
    private final int[] targets;
    private final float[] first, firstMask, hidden, activated, activatedMask, logits, losses;
    private final float[] probabilities; // then the logits' gradient
    private final float[] dActivated, dHidden, dFirst, dOutput;
    private boolean dropping; // the last forward drew dropout masks
    private boolean pending; // a training forward awaits its backward

    /** For batches of {@code batch} × {@code seqLen}; the parameters are zero until {@link #open} fills them. */
    private ElectraClassifier(ElectraConfig config, int classes, int batch, int seqLen, float dropout) {
        if (classes < 2) throw new IllegalArgumentException("a classifier needs at least two classes, not " + classes);
        this.config = config;
        this.batch = batch;
        this.seqLen = seqLen;
        this.classes = classes;
        this.dropout = dropout;
        embeddings = new ElectraEncoder.Embeddings(config);
        encoder = new ElectraEncoder("electra", config, embeddings, batch, seqLen, dropout);
        int h = config.hiddenSize();
        dense = new Parameter(HEAD + ".dense.weight", h, h);
        denseBias = new Parameter(HEAD + ".dense.bias", h);
        outProj = new Parameter(HEAD + ".out_proj.weight", h, classes);
        outProjBias = new Parameter(HEAD + ".out_proj.bias", classes);
        parameters.addAll(embeddings.parameters());
        parameters.addAll(encoder.parameters());
        parameters.addAll(List.of(dense, denseBias, outProj, outProjBias));
        layout.addAll(encoder.huggingFaceLayout());
        layout.addAll(HfTensor.linear(HEAD + ".dense", dense, denseBias));
        layout.addAll(HfTensor.linear(HEAD + ".out_proj", outProj, outProjBias));
        targets = new int[batch];
        first = new float[batch * h];
        firstMask = new float[batch * h];
        hidden = new float[batch * h];
        activated = new float[batch * h];
        activatedMask = new float[batch * h];
        logits = new float[batch * classes];
        losses = new float[batch];
        probabilities = new float[batch * classes];
        dActivated = new float[batch * h];
        dHidden = new float[batch * h];
        dFirst = new float[batch * h];
        dOutput = new float[batch * seqLen * h];
    }

    /**
     * The ELECTRA model saved in {@code dir} with a head over {@code classes} labels, for batches of {@code batch} ×
     * {@code seqLen}. Every tensor must be there, unless {@code freshHead}: then a head the folder lacks starts from
     * BERT's initialisation, drawn from {@code seed} (fine-tuning a pre-trained model).
     */
    public static ElectraClassifier open(Path dir, int classes, int batch, int seqLen, float dropout, boolean freshHead,
                                         long seed) {
        ElectraConfig config = ElectraConfig.load(dir.resolve("config.json"));
        ElectraClassifier model = new ElectraClassifier(config, classes, batch, seqLen, dropout);
        TrainableElectra.initialize(model.parameters, model.embeddings, config.padTokenId(), seed);
        List<String> missing = HfTensor.load(dir, model.layout);
        if (freshHead) missing.removeIf(name -> name.startsWith(HEAD + "."));
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(dir + "/model.safetensors lacks " + missing.size() + " tensors, e.g. "
                    + missing.getFirst());
        }
        return model;
    }

    @Override
    public int batchSize() {
        return batch;
    }

    @Override
    public int seqLen() {
        return seqLen;
    }

    @Override
    public List<Parameter> parameters() {
        return List.copyOf(parameters);
    }

    @Override
    public void zeroGrad() {
        for (Parameter p : parameters) Arrays.fill(p.grad(), 0f);
    }

    @Override
    public float sentenceLoss(int[] inputs, int[] lengths, int[] labels, long dropoutSeed) {
        if (labels.length != batch) throw new IllegalArgumentException("expected " + batch + " labels, got " + labels.length);
        for (int b = 0; b < batch; b++) {
            if (labels[b] >= classes) throw new IllegalArgumentException("label " + labels[b] + " out of range");
            targets[b] = labels[b];
        }
        forward(inputs, lengths, true, dropoutSeed);
        System.arraycopy(logits, 0, probabilities, 0, logits.length);
        pending = true;
        return Backprop.crossEntropyForward(losses, probabilities, targets, batch, classes);
    }

    @Override
    public float[] sentenceLogits(int[] inputs, int[] lengths) {
        forward(inputs, lengths, false, 0);
        pending = false;
        return Arrays.copyOf(logits, logits.length);
    }

    /** ElectraModel, then ElectraClassificationHead on each sequence's first token. */
    private void forward(int[] inputs, int[] lengths, boolean training, long seed) {
        float[] out = encoder.encode(inputs, lengths, training, seed);
        int h = config.hiddenSize();
        for (int b = 0; b < batch; b++) System.arraycopy(out, b * seqLen * h, first, b * h, h);
        dropping = training && dropout > 0;
        if (dropping) {
            Backprop.dropoutMask(firstMask, batch * h, dropout, seed + 7);
            Backprop.applyMask(first, firstMask, batch * h);
        }
        Matmul.forward(hidden, first, dense.tensor(), denseBias.value(), batch, h, h);
        Activations.geluErf(activated, hidden, batch * h);
        if (dropping) {
            Backprop.dropoutMask(activatedMask, batch * h, dropout, seed + 8);
            Backprop.applyMask(activated, activatedMask, batch * h);
        }
        Matmul.forward(logits, activated, outProj.tensor(), outProjBias.value(), batch, h, classes);
    }

    @Override
    public void backward(float lossScale) {
        if (!pending) throw new IllegalStateException("backward() needs a sentenceLoss() first");
        pending = false;
        int h = config.hiddenSize();
        float[] dLogits = probabilities;
        Backprop.crossEntropyBackward(dLogits, targets, batch, classes, lossScale);
        Matmul.backwardWeight(outProj.grad(), activated, dLogits, batch, h, classes);
        Backprop.biasGradient(outProjBias.grad(), dLogits, batch, classes);
        Matmul.backwardInput(dActivated, dLogits, outProj.tensor(), batch, h, classes);
        if (dropping) Backprop.applyMask(dActivated, activatedMask, batch * h);
        Arrays.fill(dHidden, 0f);
        Backprop.geluErfBackward(dHidden, hidden, dActivated, batch * h);
        Matmul.backwardWeight(dense.grad(), first, dHidden, batch, h, h);
        Backprop.biasGradient(denseBias.grad(), dHidden, batch, h);
        Matmul.backwardInput(dFirst, dHidden, dense.tensor(), batch, h, h);
        if (dropping) Backprop.applyMask(dFirst, firstMask, batch * h);
        Arrays.fill(dOutput, 0f);
        for (int b = 0; b < batch; b++) System.arraycopy(dFirst, b * h, dOutput, b * seqLen * h, h);
        encoder.backward(dOutput);
    }

    @Override
    public Map<String, float[]> huggingFaceTensors(boolean gradients) {
        return HfTensor.read(layout, gradients);
    }

    /**
     * Writes an ElectraForSequenceClassification folder: {@code electra.*} and {@code classifier.*}, config.json
     * with {@code configExtra} (the labels), and the tokenizer_config.json that names RoBERTa's vocabulary.
     */
    @Override
    public void save(Path dir, Map<String, Object> configExtra) throws IOException {
        HfTensor.save(dir, layout, config.toJson("ElectraForSequenceClassification", configExtra));
        TrainableElectra.writeRobertaTokenizerConfig(dir);
    }
}
