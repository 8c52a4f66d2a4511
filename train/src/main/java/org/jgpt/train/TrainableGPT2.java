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
    /** A parameter tensor, its gradient, and whether weight decay applies to it. */
    public record Parameter(String name, long[] shape, float[] value, float[] grad, boolean matrix) {
        Parameter(String name, long... shape) {
            this(name, shape, new float[size(shape)], new float[size(shape)], shape.length == 2);
        }

        Tensor tensor() {
            return Tensor.of(name, value, shape);
        }

        private static int size(long[] shape) {
            long n = 1;
            for (long d : shape) n *= d;
            return Math.toIntExact(n);
        }
    }

    private final GPT2Config config;
    private final int batch;
    private final int seqLen;
    private final int rows;
    private final float dropout;
    private final List<Parameter> parameters = new ArrayList<>();
    private final Parameter wte;
    private final Parameter wpe;
    private final Block[] blocks;
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

    // gradient scratch, shared by the blocks
    private final float[] dResidual;
    private final float[] dC;
    private final float[] dC2;
    private final float[] dQkv;
    private final float[] dHidden;
    private final float[] dHidden2;

    private boolean trainingMode;
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
        blocks = new Block[config.nLayer()];
        for (int l = 0; l < blocks.length; l++) blocks[l] = new Block(l);
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
        dResidual = new float[rows * c];
        dC = new float[rows * c];
        dC2 = new float[rows * c];
        dQkv = new float[rows * 3 * c];
        dHidden = new float[rows * config.innerDim()];
        dHidden2 = new float[rows * config.innerDim()];
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
        copy(weights.wte(), wte);
        copy(weights.wpe(), wpe);
        for (int l = 0; l < blocks.length; l++) blocks[l].load(weights.layers().get(l));
        if (lnFWeight != null) {
            copy(weights.lnFWeight(), lnFWeight);
            copy(weights.lnFBias(), lnFBias);
        }
    }

    private static void copy(Tensor from, Parameter to) {
        if (from.size() != to.value().length) {
            throw new IllegalArgumentException(from.name() + " has " + from.size() + " values, " + to.name() + " needs " + to.value().length);
        }
        for (int i = 0; i < to.value().length; i++) to.value()[i] = from.get(i);
    }

    /** The current parameters as inference weights (views, not copies; the LM head is tied to wte). */
    public GPT2Weights weights() {
        List<LayerWeights> layers = new ArrayList<>();
        for (Block b : blocks) layers.add(b.weights());
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
        trainingMode = training && dropout > 0;
        int c = config.nEmbd();
        Backprop.embeddingForward(residual[0], tokens, wte.value(), wpe.value(), batch, seqLen, c);
        if (trainingMode) {
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
        if (trainingMode) Backprop.applyMask(dResidual, embeddingMask, rows * c);
        Backprop.embeddingBackward(wte.grad(), wpe.grad(), dResidual, tokens, batch, seqLen, c);
        lastLoss = Float.NaN;
    }

    /** One transformer block: its parameters and activations. */
    private final class Block {
        final Parameter ln1Weight, ln1Bias, attnWeight, attnBias, projWeight, projBias;
        final Parameter ln2Weight, ln2Bias, fcWeight, fcBias, fcProjWeight, fcProjBias;
        final Tensor attnTensor, projTensor, fcTensor, fcProjTensor;
        final float attentionScale;
        final float[] ln1, ln1Mean, ln1Rstd, qkv, att, attMask, attOut, attProj, projMask;
        final float[] residualMid, ln2, ln2Mean, ln2Rstd, hidden, hiddenGelu, mlpOut, mlpMask;
        final boolean post; // GPT-1: LayerNorm after each residual sum
        final float[] sum1, sum2; // GPT-1: the sums before ln_1 and ln_2

        Block(int layer) {
            int c = config.nEmbd();
            int inner = config.innerDim();
            String p = "h." + layer + ".";
            ln1Weight = add(new Parameter(p + "ln_1.weight", c));
            ln1Bias = add(new Parameter(p + "ln_1.bias", c));
            attnWeight = add(new Parameter(p + "attn.c_attn.weight", c, 3L * c));
            attnBias = add(new Parameter(p + "attn.c_attn.bias", 3L * c));
            projWeight = add(new Parameter(p + "attn.c_proj.weight", c, c));
            projBias = add(new Parameter(p + "attn.c_proj.bias", c));
            ln2Weight = add(new Parameter(p + "ln_2.weight", c));
            ln2Bias = add(new Parameter(p + "ln_2.bias", c));
            fcWeight = add(new Parameter(p + "mlp.c_fc.weight", c, inner));
            fcBias = add(new Parameter(p + "mlp.c_fc.bias", inner));
            fcProjWeight = add(new Parameter(p + "mlp.c_proj.weight", inner, c));
            fcProjBias = add(new Parameter(p + "mlp.c_proj.bias", c));
            attnTensor = attnWeight.tensor();
            projTensor = projWeight.tensor();
            fcTensor = fcWeight.tensor();
            fcProjTensor = fcProjWeight.tensor();
            float scale = config.scaleAttnWeights() ? (float) (1.0 / Math.sqrt(config.headDim())) : 1f;
            attentionScale = config.scaleAttnByInverseLayerIdx() ? scale / (layer + 1) : scale;

            ln1 = new float[rows * c];
            ln1Mean = new float[rows];
            ln1Rstd = new float[rows];
            qkv = new float[rows * 3 * c];
            att = new float[batch * config.nHead() * seqLen * seqLen];
            attMask = dropout > 0 ? new float[att.length] : null;
            attOut = new float[rows * c];
            attProj = new float[rows * c];
            projMask = dropout > 0 ? new float[rows * c] : null;
            residualMid = new float[rows * c];
            ln2 = new float[rows * c];
            ln2Mean = new float[rows];
            ln2Rstd = new float[rows];
            hidden = new float[rows * inner];
            hiddenGelu = new float[rows * inner];
            mlpOut = new float[rows * c];
            mlpMask = dropout > 0 ? new float[rows * c] : null;
            post = config.postLayerNorm();
            sum1 = post ? new float[rows * c] : null;
            sum2 = post ? new float[rows * c] : null;
        }

        void forward(float[] in, float[] out, long seed) {
            int c = config.nEmbd();
            int inner = config.innerDim();
            int n = rows * c;
            float eps = config.layerNormEpsilon();
            // GPT-2: mid = x + attn(ln_1(x)). GPT-1: mid = ln_1(x + attn(x))
            if (!post) Backprop.layerNormForward(ln1, ln1Mean, ln1Rstd, in, ln1Weight.value(), ln1Bias.value(), rows, c, eps);
            Matmul.forward(qkv, post ? in : ln1, attnTensor, attnBias.value(), rows, c, 3 * c);
            if (trainingMode) Backprop.dropoutMask(attMask, attMask.length, dropout, seed);
            Backprop.attentionForward(attOut, att, trainingMode ? attMask : null, qkv, batch, seqLen, c, config.nHead(), attentionScale);
            Matmul.forward(attProj, attOut, projTensor, projBias.value(), rows, c, c);
            if (trainingMode) {
                Backprop.dropoutMask(projMask, n, dropout, seed + 1);
                Backprop.applyMask(attProj, projMask, n);
            }
            float[] mid = post ? sum1 : residualMid;
            System.arraycopy(in, 0, mid, 0, n);
            Activations.add(mid, attProj, n);
            if (post) Backprop.layerNormForward(residualMid, ln1Mean, ln1Rstd, sum1, ln1Weight.value(), ln1Bias.value(), rows, c, eps);
            // GPT-2: out = mid + mlp(ln_2(mid)). GPT-1: out = ln_2(mid + mlp(mid))
            if (!post) Backprop.layerNormForward(ln2, ln2Mean, ln2Rstd, residualMid, ln2Weight.value(), ln2Bias.value(), rows, c, eps);
            Matmul.forward(hidden, post ? residualMid : ln2, fcTensor, fcBias.value(), rows, c, inner);
            Activations.gelu(hiddenGelu, hidden, rows * inner);
            Matmul.forward(mlpOut, hiddenGelu, fcProjTensor, fcProjBias.value(), rows, inner, c);
            if (trainingMode) {
                Backprop.dropoutMask(mlpMask, n, dropout, seed + 2);
                Backprop.applyMask(mlpOut, mlpMask, n);
            }
            float[] end = post ? sum2 : out;
            System.arraycopy(residualMid, 0, end, 0, n);
            Activations.add(end, mlpOut, n);
            if (post) Backprop.layerNormForward(out, ln2Mean, ln2Rstd, sum2, ln2Weight.value(), ln2Bias.value(), rows, c, eps);
        }

        /** On entry dResidual holds the gradient of this block's output; on exit that of its input {@code in}. */
        void backward(float[] in) {
            int c = config.nEmbd();
            int inner = config.innerDim();
            int n = rows * c;
            if (post) layerNormBackward(ln2Weight, ln2Bias, sum2, ln2Mean, ln2Rstd);
            // mlp branch: out = mid + dropout(c_proj(gelu(c_fc(ln_2(mid))))) (GPT-1: before ln_2, without the inner one)
            System.arraycopy(dResidual, 0, dC, 0, n);
            if (trainingMode) Backprop.applyMask(dC, mlpMask, n);
            Matmul.backwardWeight(fcProjWeight.grad(), hiddenGelu, dC, rows, inner, c);
            Backprop.biasGradient(fcProjBias.grad(), dC, rows, c);
            Matmul.backwardInput(dHidden2, dC, fcProjTensor, rows, inner, c);
            Arrays.fill(dHidden, 0f);
            Backprop.geluBackward(dHidden, hidden, dHidden2, rows * inner);
            Matmul.backwardWeight(fcWeight.grad(), post ? residualMid : ln2, dHidden, rows, c, inner);
            Backprop.biasGradient(fcBias.grad(), dHidden, rows, inner);
            Matmul.backwardInput(dC2, dHidden, fcTensor, rows, c, inner);
            if (post) {
                Activations.add(dResidual, dC2, n);
                layerNormBackward(ln1Weight, ln1Bias, sum1, ln1Mean, ln1Rstd);
            } else {
                Backprop.layerNormBackward(dResidual, ln2Weight.grad(), ln2Bias.grad(), dC2, residualMid, ln2Weight.value(),
                        ln2Mean, ln2Rstd, rows, c);
            }
            // attention branch: mid = in + dropout(c_proj(attn(c_attn(ln_1(in)))))
            System.arraycopy(dResidual, 0, dC, 0, n);
            if (trainingMode) Backprop.applyMask(dC, projMask, n);
            Matmul.backwardWeight(projWeight.grad(), attOut, dC, rows, c, c);
            Backprop.biasGradient(projBias.grad(), dC, rows, c);
            Matmul.backwardInput(dC2, dC, projTensor, rows, c, c);
            Arrays.fill(dQkv, 0f);
            Backprop.attentionBackward(dQkv, dC2, qkv, att, trainingMode ? attMask : null, batch, seqLen, c,
                    config.nHead(), attentionScale);
            Matmul.backwardWeight(attnWeight.grad(), post ? in : ln1, dQkv, rows, c, 3 * c);
            Backprop.biasGradient(attnBias.grad(), dQkv, rows, 3 * c);
            Matmul.backwardInput(dC2, dQkv, attnTensor, rows, c, 3 * c);
            if (post) {
                Activations.add(dResidual, dC2, n);
            } else {
                Backprop.layerNormBackward(dResidual, ln1Weight.grad(), ln1Bias.grad(), dC2, in, ln1Weight.value(),
                        ln1Mean, ln1Rstd, rows, c);
            }
        }

        /** GPT-1: turns dResidual, the gradient of a LayerNorm's output, into that of its input {@code sum}. */
        private void layerNormBackward(Parameter weight, Parameter bias, float[] sum, float[] mean, float[] rstd) {
            int n = rows * config.nEmbd();
            Arrays.fill(dC, 0, n, 0f);
            Backprop.layerNormBackward(dC, weight.grad(), bias.grad(), dResidual, sum, weight.value(), mean, rstd, rows,
                    config.nEmbd());
            System.arraycopy(dC, 0, dResidual, 0, n);
        }

        void load(LayerWeights w) {
            copy(w.ln1Weight(), ln1Weight);
            copy(w.ln1Bias(), ln1Bias);
            copy(w.attnWeight(), attnWeight);
            copy(w.attnBias(), attnBias);
            copy(w.attnProjWeight(), projWeight);
            copy(w.attnProjBias(), projBias);
            copy(w.ln2Weight(), ln2Weight);
            copy(w.ln2Bias(), ln2Bias);
            copy(w.fcWeight(), fcWeight);
            copy(w.fcBias(), fcBias);
            copy(w.fcProjWeight(), fcProjWeight);
            copy(w.fcProjBias(), fcProjBias);
        }

        LayerWeights weights() {
            return new LayerWeights(ln1Weight.tensor(), ln1Bias.tensor(), attnTensor, attnBias.tensor(), projTensor,
                    projBias.tensor(), ln2Weight.tensor(), ln2Bias.tensor(), fcTensor, fcBias.tensor(), fcProjTensor,
                    fcProjBias.tensor());
        }
    }
}
