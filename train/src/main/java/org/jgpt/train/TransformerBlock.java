package org.jgpt.train;

import java.util.Arrays;
import org.jgpt.kernel.Activations;
import org.jgpt.kernel.Backprop;
import org.jgpt.kernel.Matmul;
import org.jgpt.kernel.Tensor;
import org.jgpt.model.LayerWeights;

/**
 * One transformer block for training: its parameters and activations, forward and backward side by side. GPT-2's
 * block is pre-LayerNorm; GPT-1's and BERT's are post-LayerNorm (the sum, then the norm). Attention is causal unless
 * the stack has key lengths (an encoder) or a visibility mask (XLNet's two streams, {@link PermutationEncoder}). Parameter names are GPT-2's ({@code h.N.attn.c_attn.weight}, Conv1D
 * [in, out] layout) whatever the model; an encoder maps them to its own layout when it saves.
 */
final class TransformerBlock {
    /** What all blocks of a model share: the shape, the flavour, the mode of the current pass, gradient scratch. */
    static final class Stack {
        final int batch, seqLen, rows, dim, heads, inner;
        final float eps, dropout;
        final boolean postLayerNorm, erfGelu;
        /** The gradient of the residual stream, passed from block to block in the backward. */
        final float[] dResidual;
        final float[] dC, dC2, dQkv, dHidden, dHidden2;
        /** Whether the current pass applies dropout. */
        boolean training;
        /** Keys visible to each sequence (the rest is padding), or null for causal attention. */
        int[] keyLengths;
        /** Per (sequence, query, key) whether the query sees the key ([batch, T, T]); when set, keyLengths is unused. */
        boolean[] visible;
        /** A content stream's: the gradient of its q, k, v from the query stream's attention, added in the backward. */
        float[] dQkvFromQueryStream;

        Stack(int batch, int seqLen, int dim, int heads, int inner, float eps, float dropout, boolean postLayerNorm,
              boolean erfGelu) {
            this.batch = batch;
            this.seqLen = seqLen;
            this.rows = batch * seqLen;
            this.dim = dim;
            this.heads = heads;
            this.inner = inner;
            this.eps = eps;
            this.dropout = dropout;
            this.postLayerNorm = postLayerNorm;
            this.erfGelu = erfGelu;
            dResidual = new float[rows * dim];
            dC = new float[rows * dim];
            dC2 = new float[rows * dim];
            dQkv = new float[rows * 3 * dim];
            dHidden = new float[rows * inner];
            dHidden2 = new float[rows * inner];
        }
    }

    final Parameter ln1Weight, ln1Bias, attnWeight, attnBias, projWeight, projBias;
    final Parameter ln2Weight, ln2Bias, fcWeight, fcBias, fcProjWeight, fcProjBias;
    private final Stack stack;
    /** For XLNet's query stream: the content stream's block, whose keys and values this block's queries attend. */
    private final TransformerBlock content;
    private final Tensor attnTensor, projTensor, fcTensor, fcProjTensor;
    private final float attentionScale;
    private final float[] ln1, ln1Mean, ln1Rstd, qkv, att, attMask, attOut, attProj, projMask;
    private final float[] residualMid, ln2, ln2Mean, ln2Rstd, hidden, hiddenGelu, mlpOut, mlpMask;
    private final float[] sum1, sum2; // post-LN: the sums before ln_1 and ln_2

    /** Where a block's parameters come from: new ones, or another model's of the same names and shapes (shared). */
    interface Parameters {
        Parameter get(String name, long... shape);
    }

    /** Block {@code layer} of the stack, its parameters taken from {@code parameters}. */
    TransformerBlock(int layer, Stack stack, float attentionScale, Parameters parameters) {
        this(layer, stack, attentionScale, parameters, null);
    }

    /**
     * With {@code content}, the query stream's block of XLNet's two-stream attention: the same parameters (from
     * {@code parameters}), its own activations, queries from its own input, keys and values from {@code content}'s.
     */
    TransformerBlock(int layer, Stack stack, float attentionScale, Parameters parameters, TransformerBlock content) {
        this.stack = stack;
        this.content = content;
        this.attentionScale = attentionScale;
        int c = stack.dim;
        int inner = stack.inner;
        int rows = stack.rows;
        String p = "h." + layer + ".";
        ln1Weight = parameters.get(p + "ln_1.weight", c);
        ln1Bias = parameters.get(p + "ln_1.bias", c);
        attnWeight = parameters.get(p + "attn.c_attn.weight", c, 3L * c);
        attnBias = parameters.get(p + "attn.c_attn.bias", 3L * c);
        projWeight = parameters.get(p + "attn.c_proj.weight", c, c);
        projBias = parameters.get(p + "attn.c_proj.bias", c);
        ln2Weight = parameters.get(p + "ln_2.weight", c);
        ln2Bias = parameters.get(p + "ln_2.bias", c);
        fcWeight = parameters.get(p + "mlp.c_fc.weight", c, inner);
        fcBias = parameters.get(p + "mlp.c_fc.bias", inner);
        fcProjWeight = parameters.get(p + "mlp.c_proj.weight", inner, c);
        fcProjBias = parameters.get(p + "mlp.c_proj.bias", c);
        attnTensor = attnWeight.tensor();
        projTensor = projWeight.tensor();
        fcTensor = fcWeight.tensor();
        fcProjTensor = fcProjWeight.tensor();

        boolean dropout = stack.dropout > 0;
        boolean post = stack.postLayerNorm;
        ln1 = post ? null : new float[rows * c];
        ln1Mean = new float[rows];
        ln1Rstd = new float[rows];
        qkv = new float[rows * 3 * c];
        att = new float[stack.batch * stack.heads * stack.seqLen * stack.seqLen];
        attMask = dropout ? new float[att.length] : null;
        attOut = new float[rows * c];
        attProj = new float[rows * c];
        projMask = dropout ? new float[rows * c] : null;
        residualMid = new float[rows * c];
        ln2 = post ? null : new float[rows * c];
        ln2Mean = new float[rows];
        ln2Rstd = new float[rows];
        hidden = new float[rows * inner];
        hiddenGelu = new float[rows * inner];
        mlpOut = new float[rows * c];
        mlpMask = dropout ? new float[rows * c] : null;
        sum1 = post ? new float[rows * c] : null;
        sum2 = post ? new float[rows * c] : null;
    }

    void forward(float[] in, float[] out, long seed) {
        Stack s = stack;
        int c = s.dim;
        int rows = s.rows;
        int n = rows * c;
        boolean post = s.postLayerNorm;
        // pre-LN: mid = x + attn(ln_1(x)). post-LN: mid = ln_1(x + attn(x))
        if (!post) Backprop.layerNormForward(ln1, ln1Mean, ln1Rstd, in, ln1Weight.value(), ln1Bias.value(), rows, c, s.eps);
        Matmul.forward(qkv, post ? in : ln1, attnTensor, attnBias.value(), rows, c, 3 * c);
        if (s.training) Backprop.dropoutMask(attMask, attMask.length, s.dropout, seed);
        if (s.visible == null) {
            Backprop.attentionForward(attOut, att, s.training ? attMask : null, qkv, s.keyLengths, s.batch, s.seqLen, c,
                    s.heads, attentionScale);
        } else {
            Backprop.maskedAttentionForward(attOut, att, s.training ? attMask : null, qkv, content == null ? qkv : content.qkv,
                    s.visible, s.batch, s.seqLen, c, s.heads, attentionScale);
        }
        Matmul.forward(attProj, attOut, projTensor, projBias.value(), rows, c, c);
        if (s.training) {
            Backprop.dropoutMask(projMask, n, s.dropout, seed + 1);
            Backprop.applyMask(attProj, projMask, n);
        }
        float[] mid = post ? sum1 : residualMid;
        System.arraycopy(in, 0, mid, 0, n);
        Activations.add(mid, attProj, n);
        if (post) Backprop.layerNormForward(residualMid, ln1Mean, ln1Rstd, sum1, ln1Weight.value(), ln1Bias.value(), rows, c, s.eps);
        // pre-LN: out = mid + mlp(ln_2(mid)). post-LN: out = ln_2(mid + mlp(mid))
        if (!post) Backprop.layerNormForward(ln2, ln2Mean, ln2Rstd, residualMid, ln2Weight.value(), ln2Bias.value(), rows, c, s.eps);
        Matmul.forward(hidden, post ? residualMid : ln2, fcTensor, fcBias.value(), rows, c, s.inner);
        if (s.erfGelu) Activations.geluErf(hiddenGelu, hidden, rows * s.inner);
        else Activations.gelu(hiddenGelu, hidden, rows * s.inner);
        Matmul.forward(mlpOut, hiddenGelu, fcProjTensor, fcProjBias.value(), rows, s.inner, c);
        if (s.training) {
            Backprop.dropoutMask(mlpMask, n, s.dropout, seed + 2);
            Backprop.applyMask(mlpOut, mlpMask, n);
        }
        float[] end = post ? sum2 : out;
        System.arraycopy(residualMid, 0, end, 0, n);
        Activations.add(end, mlpOut, n);
        if (post) Backprop.layerNormForward(out, ln2Mean, ln2Rstd, sum2, ln2Weight.value(), ln2Bias.value(), rows, c, s.eps);
    }

    /** On entry the stack's dResidual holds the gradient of this block's output; on exit that of its input {@code in}. */
    void backward(float[] in) {
        Stack s = stack;
        int c = s.dim;
        int inner = s.inner;
        int rows = s.rows;
        int n = rows * c;
        boolean post = s.postLayerNorm;
        float[] dResidual = s.dResidual, dC = s.dC, dC2 = s.dC2, dHidden = s.dHidden, dHidden2 = s.dHidden2;
        if (post) layerNormBackward(ln2Weight, ln2Bias, sum2, ln2Mean, ln2Rstd);
        // mlp branch: out = mid + dropout(c_proj(gelu(c_fc(ln_2(mid))))) (post-LN: before ln_2, without the inner one)
        System.arraycopy(dResidual, 0, dC, 0, n);
        if (s.training) Backprop.applyMask(dC, mlpMask, n);
        Matmul.backwardWeight(fcProjWeight.grad(), hiddenGelu, dC, rows, inner, c);
        Backprop.biasGradient(fcProjBias.grad(), dC, rows, c);
        Matmul.backwardInput(dHidden2, dC, fcProjTensor, rows, inner, c);
        Arrays.fill(dHidden, 0f);
        if (s.erfGelu) Backprop.geluErfBackward(dHidden, hidden, dHidden2, rows * inner);
        else Backprop.geluBackward(dHidden, hidden, dHidden2, rows * inner);
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
        if (s.training) Backprop.applyMask(dC, projMask, n);
        Matmul.backwardWeight(projWeight.grad(), attOut, dC, rows, c, c);
        Backprop.biasGradient(projBias.grad(), dC, rows, c);
        Matmul.backwardInput(dC2, dC, projTensor, rows, c, c);
        Arrays.fill(s.dQkv, 0f);
        if (s.visible == null) {
            Backprop.attentionBackward(s.dQkv, dC2, qkv, att, s.training ? attMask : null, s.keyLengths, s.batch, s.seqLen,
                    c, s.heads, attentionScale);
        } else if (content == null) {
            Backprop.maskedAttentionBackward(s.dQkv, s.dQkv, dC2, qkv, qkv, att, s.training ? attMask : null, s.visible,
                    s.batch, s.seqLen, c, s.heads, attentionScale);
        } else {
            // the keys and values are the content stream's: their gradient waits in its stack for its backward
            float[] dContent = content.stack.dQkvFromQueryStream;
            Arrays.fill(dContent, 0f);
            Backprop.maskedAttentionBackward(s.dQkv, dContent, dC2, qkv, content.qkv, att, s.training ? attMask : null,
                    s.visible, s.batch, s.seqLen, c, s.heads, attentionScale);
        }
        if (s.dQkvFromQueryStream != null) Activations.add(s.dQkv, s.dQkvFromQueryStream, rows * 3 * c);
        Matmul.backwardWeight(attnWeight.grad(), post ? in : ln1, s.dQkv, rows, c, 3 * c);
        Backprop.biasGradient(attnBias.grad(), s.dQkv, rows, 3 * c);
        Matmul.backwardInput(dC2, s.dQkv, attnTensor, rows, c, 3 * c);
        if (post) {
            Activations.add(dResidual, dC2, n);
        } else {
            Backprop.layerNormBackward(dResidual, ln1Weight.grad(), ln1Bias.grad(), dC2, in, ln1Weight.value(),
                    ln1Mean, ln1Rstd, rows, c);
        }
    }

    /** Post-LN: turns dResidual, the gradient of a LayerNorm's output, into that of its input {@code sum}. */
    private void layerNormBackward(Parameter weight, Parameter bias, float[] sum, float[] mean, float[] rstd) {
        Stack s = stack;
        int n = s.rows * s.dim;
        Arrays.fill(s.dC, 0, n, 0f);
        Backprop.layerNormBackward(s.dC, weight.grad(), bias.grad(), s.dResidual, sum, weight.value(), mean, rstd,
                s.rows, s.dim);
        System.arraycopy(s.dC, 0, s.dResidual, 0, n);
    }

    void load(LayerWeights w) {
        ln1Weight.copyFrom(w.ln1Weight());
        ln1Bias.copyFrom(w.ln1Bias());
        attnWeight.copyFrom(w.attnWeight());
        attnBias.copyFrom(w.attnBias());
        projWeight.copyFrom(w.attnProjWeight());
        projBias.copyFrom(w.attnProjBias());
        ln2Weight.copyFrom(w.ln2Weight());
        ln2Bias.copyFrom(w.ln2Bias());
        fcWeight.copyFrom(w.fcWeight());
        fcBias.copyFrom(w.fcBias());
        fcProjWeight.copyFrom(w.fcProjWeight());
        fcProjBias.copyFrom(w.fcProjBias());
    }

    LayerWeights weights() {
        return new LayerWeights(ln1Weight.tensor(), ln1Bias.tensor(), attnTensor, attnBias.tensor(), projTensor,
                projBias.tensor(), ln2Weight.tensor(), ln2Bias.tensor(), fcTensor, fcBias.tensor(), fcProjTensor,
                fcProjBias.tensor());
    }
}
