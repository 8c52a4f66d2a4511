package org.jgpt.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.jgpt.kernel.Activations;
import org.jgpt.kernel.Backprop;
import org.jgpt.kernel.Matmul;
import org.jgpt.kernel.Tensor;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Weights;
import org.jgpt.model.LayerWeights;

/**
 * GPT-2 (or GPT-1, see {@link GPT2Config#postLayerNorm}) for training: its parameters and their gradients as float
 * arrays, and one activation buffer per role for a fixed batch shape, llm.c style. {@link #forward} keeps what {@link #backward} needs; the two read as the paper
 * draws the block (LayerNorm, attention, residual, LayerNorm, MLP, residual), one forwards and one backwards.
 */
public final class TrainableGPT2 {
    private final GPT2Config config;
    private final int batch;
    private final int seqLen;
    private final int rows;
    private final float dropout;
    private final List<Parameter> parameters = new ArrayList<>();
    private final Parameter wte;
    private final Parameter wpe;
    private final TransformerBlock.Stack stack;
    private final TransformerBlock[] blocks;
    private final Parameter lnFWeight;
    private final Parameter lnFBias;
    private final Tensor wteTensor;

    // activations of the whole model; each block holds its own
    private final int[] tokens;
    private final int[] targets;
    private final float[][] residual; // residual[l] is the input of block l; residual[L] the final one
    private final float[] embeddingMask;
    private final float[] lnF;
    private final float[] lnFMean;
    private final float[] lnFRstd;
    private final float[] logits; // probabilities after the loss, then their gradient
    private final float[] losses;

    private boolean lmLoss;
    private float lastLoss = Float.NaN;

    /** A model with {@code dropout} probability at the embedding, attention and residual sites (GPT-2: 0.1). */
    public TrainableGPT2(GPT2Config config, int batch, int seqLen, float dropout) {
        if (seqLen > config.nPositions()) {
            throw new IllegalArgumentException("sequence length " + seqLen + " exceeds the context of " + config.nPositions());
        }
        this.config = config;
        this.batch = batch;
        this.seqLen = seqLen;
        this.rows = batch * seqLen;
        this.dropout = dropout;
        int c = config.nEmbd();
        boolean gpt1 = config.postLayerNorm();
        wte = add(new Parameter(gpt1 ? "tokens_embed.weight" : "wte.weight", config.vocabSize(), c));
        wpe = add(new Parameter(gpt1 ? "positions_embed.weight" : "wpe.weight", config.nPositions(), c));
        stack = new TransformerBlock.Stack(batch, seqLen, c, config.nHead(), config.innerDim(),
                config.layerNormEpsilon(), dropout, gpt1, false);
        blocks = new TransformerBlock[config.nLayer()];
        for (int l = 0; l < blocks.length; l++) {
            float scale = config.scaleAttnWeights() ? (float) (1.0 / Math.sqrt(config.headDim())) : 1f;
            blocks[l] = new TransformerBlock(l, stack, config.scaleAttnByInverseLayerIdx() ? scale / (l + 1) : scale,
                    (name, shape) -> add(new Parameter(name, shape)));
        }
        lnFWeight = gpt1 ? null : add(new Parameter("ln_f.weight", c)); // GPT-1 has no final LayerNorm
        lnFBias = gpt1 ? null : add(new Parameter("ln_f.bias", c));
        wteTensor = wte.tensor();

        tokens = new int[rows];
        targets = new int[rows];
        residual = new float[blocks.length + 1][rows * c];
        embeddingMask = new float[rows * c];
        lnF = new float[rows * c];
        lnFMean = new float[rows];
        lnFRstd = new float[rows];
        logits = new float[rows * config.vocabSize()];
        losses = new float[rows];
    }

    private Parameter add(Parameter p) {
        parameters.add(p);
        return p;
    }

    /** GPT-2's initialisation: N(0, 0.02), residual projections by 1/√(2·n_layer), zero biases, unit LayerNorm gains. */
    public void initialize(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double projStd = 0.02 / Math.sqrt(2.0 * config.nLayer());
        for (Parameter p : parameters) {
            if (p.name().endsWith("ln_1.weight") || p.name().endsWith("ln_2.weight") || p.name().equals("ln_f.weight")) {
                Arrays.fill(p.value(), 1f);
            } else if (p.matrix()) {
                double std = p.name().endsWith("c_proj.weight") ? projStd : 0.02;
                for (int i = 0; i < p.value().length; i++) p.value()[i] = (float) (random.nextGaussian() * std);
            } else {
                Arrays.fill(p.value(), 0f);
            }
        }
    }

    /** Copies in pre-trained weights of the same configuration (any dtype). */
    public void load(GPT2Weights weights) {
        if (!weights.config().equals(config)) {
            throw new IllegalArgumentException("checkpoint config " + weights.config() + " differs from " + config);
        }
        if (!weights.quantized().isEmpty()) {
            throw new IllegalArgumentException("the checkpoint holds Q8_0 weights (jgpt quantize), which are for inference:"
                    + " training and fine-tuning start from its F32, F16 or BF16 original");
        }
        wte.copyFrom(weights.wte());
        wpe.copyFrom(weights.wpe());
        for (int l = 0; l < blocks.length; l++) blocks[l].load(weights.layers().get(l));
        if (lnFWeight != null) {
            lnFWeight.copyFrom(weights.lnFWeight());
            lnFBias.copyFrom(weights.lnFBias());
        }
    }

    /** The current parameters as inference weights (views, not copies; the LM head is tied to wte). */
    public GPT2Weights weights() {
        List<LayerWeights> layers = new ArrayList<>();
        for (TransformerBlock b : blocks) layers.add(b.weights());
        return new GPT2Weights(config, wteTensor, wpe.tensor(), layers, lnFWeight == null ? null : lnFWeight.tensor(),
                lnFBias == null ? null : lnFBias.tensor(), wteTensor, null);
    }

    public List<Parameter> parameters() {
        return List.copyOf(parameters);
    }

    public GPT2Config config() {
        return config;
    }

    public int batchSize() {
        return batch;
    }

    public int seqLen() {
        return seqLen;
    }

    public void zeroGrad() {
        for (Parameter p : parameters) Arrays.fill(p.grad(), 0f);
    }

    /** The loss of one batch, dropout off: for validation. */
    public float evaluate(int[] inputs, int[] targets) {
        return run(inputs, targets, false, 0);
    }

    /**
     * The training forward: mean cross-entropy of {@code targets} ([batch × seqLen]; -1 ignores a position) given
     * {@code inputs}, with dropout drawn from {@code dropoutSeed}. Keeps the activations for {@link #backward}. With
     * no target at all the LM head is not run and the loss is 0: only {@link #finalHidden()} is wanted.
     */
    public float forward(int[] inputs, int[] targets, long dropoutSeed) {
        return run(inputs, targets, true, dropoutSeed);
    }

    private float run(int[] inputs, int[] targetIds, boolean training, long dropoutSeed) {
        if (inputs.length != rows || targetIds.length != rows) {
            throw new IllegalArgumentException("expected " + rows + " inputs and targets, got " + inputs.length + " and " + targetIds.length);
        }
        for (int i = 0; i < rows; i++) {
            if (inputs[i] < 0 || inputs[i] >= config.vocabSize()) throw new IllegalArgumentException("token id " + inputs[i] + " out of range");
            if (targetIds[i] >= config.vocabSize()) throw new IllegalArgumentException("target id " + targetIds[i] + " out of range");
        }
        System.arraycopy(inputs, 0, tokens, 0, rows);
        System.arraycopy(targetIds, 0, targets, 0, rows);
        stack.training = training && dropout > 0;
        int c = config.nEmbd();
        Backprop.embeddingForward(residual[0], tokens, wte.value(), wpe.value(), batch, seqLen, c);
        if (stack.training) {
            Backprop.dropoutMask(embeddingMask, rows * c, dropout, dropoutSeed);
            Backprop.applyMask(residual[0], embeddingMask, rows * c);
        }
        for (int l = 0; l < blocks.length; l++) {
            blocks[l].forward(residual[l], residual[l + 1], dropoutSeed + 1_000_003L * (l + 1));
        }
        if (lnFWeight == null) {
            System.arraycopy(residual[blocks.length], 0, lnF, 0, rows * c);
        } else {
            Backprop.layerNormForward(lnF, lnFMean, lnFRstd, residual[blocks.length], lnFWeight.value(), lnFBias.value(),
                    rows, c, config.layerNormEpsilon());
        }
        lmLoss = hasTargets(targets);
        if (lmLoss) {
            Matmul.forwardTransposed(logits, lnF, wteTensor, rows, c, config.vocabSize());
            lastLoss = Backprop.crossEntropyForward(losses, logits, targets, rows, config.vocabSize());
        } else {
            lastLoss = 0f; // no targets: the LM head, the costliest matmul, is skipped (fine-tuning with λ = 0)
        }
        return lastLoss;
    }

    private static boolean hasTargets(int[] targets) {
        for (int t : targets) if (t >= 0) return true;
        return false;
    }

    /**
     * The final hidden states of the last forward, after ln_f ([batch × seqLen, C], row-major): the input of the LM
     * head, and of fine-tuning's task heads. A live view, overwritten by the next forward; do not modify.
     */
    public float[] finalHidden() {
        return lnF;
    }

    /** Accumulates into each parameter's gradient that of {@code lossScale} × the last forward's loss. */
    public void backward(float lossScale) {
        backward(lossScale, null);
    }

    /**
     * Like {@link #backward(float)}, plus the gradient {@code dFinalHidden} ([batch × seqLen, C], or null) of another
     * loss with respect to {@link #finalHidden()}: a task head's, in fine-tuning.
     */
    public void backward(float lossScale, float[] dFinalHidden) {
        if (Float.isNaN(lastLoss)) throw new IllegalStateException("backward() needs a forward() first");
        int c = config.nEmbd();
        int v = config.vocabSize();
        float[] dC = stack.dC;
        float[] dResidual = stack.dResidual;
        if (lmLoss) {
            Backprop.crossEntropyBackward(logits, targets, rows, v, lossScale);
            Matmul.forward(dC, logits, wteTensor, null, rows, v, c);
            Matmul.backwardWeight(wte.grad(), logits, lnF, rows, v, c);
        } else {
            Arrays.fill(dC, 0f);
        }
        if (dFinalHidden != null) Activations.add(dC, dFinalHidden, rows * c);
        if (lnFWeight == null) {
            System.arraycopy(dC, 0, dResidual, 0, rows * c);
        } else {
            Arrays.fill(dResidual, 0f);
            Backprop.layerNormBackward(dResidual, lnFWeight.grad(), lnFBias.grad(), dC, residual[blocks.length],
                    lnFWeight.value(), lnFMean, lnFRstd, rows, c);
        }
        for (int l = blocks.length - 1; l >= 0; l--) blocks[l].backward(residual[l]);
        if (stack.training) Backprop.applyMask(dResidual, embeddingMask, rows * c);
        Backprop.embeddingBackward(wte.grad(), wpe.grad(), dResidual, tokens, batch, seqLen, c);
        lastLoss = Float.NaN;
    }
}
