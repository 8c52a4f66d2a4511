package org.jgpt.model;

import java.util.Arrays;
import java.util.List;
import org.jgpt.kernel.Activations;
import org.jgpt.kernel.Attention;
import org.jgpt.kernel.Embedding;
import org.jgpt.kernel.Matmul;
import org.jgpt.kernel.Norms;
import org.jgpt.kernel.Q8Matrix;
import org.jgpt.kernel.Tensor;
import org.jgpt.kernel.WeightMatrix;

/**
 * GPT-2's (and GPT-1's, see {@link GPT2Config#postLayerNorm}) forward pass over a ragged batch of sequences, each with its own {@link KVCache}.
 *
 * <p>The new tokens of all sequences are stacked as rows, so every matmul sees the whole batch at once; attention
 * runs per sequence over its own cache. Activation buffers (one per role, as in llm.c) are allocated for the
 * largest batch seen and reused, so decoding one token at a time allocates nothing. Not thread-safe: one forward
 * at a time per model.
 */
public final class GPT2Model {
    private final GPT2Config config;
    private final GPT2Weights weights;
    private final Layer[] layers;
    private final WeightMatrix lmHead;
    /** The Q8_0 token embedding, or null when {@code weights.wte()} holds it. */
    private final Q8Matrix wteQ8;
    private final float[] lnFGain;
    private final float[] lnFBias;

    // Activations for `rowCapacity` rows: x residual, ln LayerNorm output, qkv, att attention output, proj a
    // projection's output before it joins the residual, hidden the MLP's inner activations.
    private int rowCapacity;
    private float[] x, ln, qkv, att, proj, hidden;
    private int[] tokenRows, positionRows;
    private int[] lastRowOnly = new int[0];

    /**
     * The small per-layer vectors as float arrays (read once at load); the matrices as the matmuls read them (F32 in
     * panels, half precision where the weights are, Q8_0 blocks when quantized).
     */
    private record Layer(WeightMatrix attn, WeightMatrix attnProj, WeightMatrix fc, WeightMatrix fcProj,
                         float[] ln1Gain, float[] ln1Bias, float[] attnBias, float[] attnProjBias,
                         float[] ln2Gain, float[] ln2Bias, float[] fcBias, float[] fcProjBias, float attnScale) {}

    public GPT2Model(GPT2Weights weights) {
        this.config = weights.config();
        this.weights = weights;
        String activation = config.activationFunction();
        if (!activation.equals("gelu_new") && !activation.equals("gelu_pytorch_tanh")) {
            throw new IllegalArgumentException("unsupported activation_function '" + activation
                    + "' (jgpt implements GPT-2's tanh GELU: gelu_new, gelu_pytorch_tanh)");
        }
        List<LayerWeights> layerWeights = weights.layers();
        if (layerWeights.size() != config.nLayer()) {
            throw new IllegalArgumentException("config has n_layer " + config.nLayer() + " but the weights have "
                    + layerWeights.size() + " layers");
        }
        int c = config.nEmbd();
        int inner = config.innerDim();
        this.wteQ8 = weights.quantizedWte();
        if (wteQ8 != null) checkShape(wteQ8, c, config.vocabSize());
        else checkShape(weights.wte(), config.vocabSize(), c);
        checkShape(weights.wpe(), config.nPositions(), c);
        this.layers = new Layer[config.nLayer()];
        for (int l = 0; l < layers.length; l++) {
            LayerWeights w = layerWeights.get(l);
            float scale = config.scaleAttnWeights() ? (float) (1.0 / Math.sqrt(config.headDim())) : 1f;
            if (config.scaleAttnByInverseLayerIdx()) scale /= (l + 1);
            layers[l] = new Layer(matrix(w.attnWeight(), l, 0, c, 3 * c), matrix(w.attnProjWeight(), l, 1, c, c),
                    matrix(w.fcWeight(), l, 2, c, inner), matrix(w.fcProjWeight(), l, 3, inner, c),
                    vector(w.ln1Weight(), c), vector(w.ln1Bias(), c), vector(w.attnBias(), 3 * c),
                    vector(w.attnProjBias(), c), vector(w.ln2Weight(), c), vector(w.ln2Bias(), c),
                    vector(w.fcBias(), inner), vector(w.fcProjBias(), c), scale);
        }
        Q8Matrix lmHeadQ8 = weights.quantizedLmHead();
        if (lmHeadQ8 != null) {
            checkShape(lmHeadQ8, c, config.vocabSize());
            this.lmHead = WeightMatrix.of(lmHeadQ8);
        } else {
            checkShape(weights.lmHead(), config.vocabSize(), c);
            this.lmHead = WeightMatrix.ofTransposed(weights.lmHead());
        }
        this.lnFGain = config.postLayerNorm() ? null : vector(weights.lnFWeight(), c);
        this.lnFBias = config.postLayerNorm() ? null : vector(weights.lnFBias(), c);
    }

    /** Layer {@code l}'s matrix {@code m} (see {@link GPT2Weights#layerMatrix}), {@code [in, out]}: Q8_0 or the tensor. */
    private WeightMatrix matrix(Tensor tensor, int l, int m, int in, int out) {
        Q8Matrix q = weights.quantized().get(GPT2Weights.layerMatrix(l, m));
        if (q != null) {
            checkShape(q, in, out);
            return WeightMatrix.of(q);
        }
        checkShape(tensor, in, out);
        return WeightMatrix.of(tensor);
    }

    private static void checkShape(Q8Matrix q, int in, int out) {
        if (q.inDim() != in || q.outDim() != out) {
            throw new IllegalArgumentException("matrix " + q + ": expected [" + in + " -> " + out + "]");
        }
    }

    private static void checkShape(Tensor t, int rows, int cols) {
        if (t.rank() != 2 || t.dim(0) != rows || t.dim(1) != cols) {
            throw new IllegalArgumentException("tensor " + t + ": expected shape [" + rows + ", " + cols + "]");
        }
    }

    private static float[] vector(Tensor t, int length) {
        if (t.size() != length) {
            throw new IllegalArgumentException("tensor " + t + ": expected " + length + " elements");
        }
        return t.toFloatArray();
    }

    public GPT2Config config() {
        return config;
    }

    public GPT2Weights weights() {
        return weights;
    }

    /** A cache for one sequence of up to {@code capacity} tokens. */
    public KVCache newCache(int capacity) {
        return new KVCache(config, capacity);
    }

    /**
     * Feeds {@code tokens[s]} to sequence {@code s}, appending them to {@code caches[s]}, and writes the logits of
     * each sequence's last new token to {@code logits} (row {@code s}, {@code [sequences, vocab]}).
     */
    public void forward(int[][] tokens, KVCache[] caches, float[] logits) {
        if (lastRowOnly.length != tokens.length) {
            lastRowOnly = new int[tokens.length];
            Arrays.fill(lastRowOnly, 1);
        }
        forward(tokens, caches, lastRowOnly, logits);
    }

    /**
     * Feeds {@code tokens[s]} to sequence {@code s}, appending them to {@code caches[s]}, and writes logits for the
     * last {@code logitRows[s]} new tokens of each sequence (0 for none) to {@code logits}, one row of vocab_size
     * per token, sequence after sequence. Row {@code i} of a sequence predicts the token after its {@code i}-th
     * fed token.
     */
    public void forward(int[][] tokens, KVCache[] caches, int[] logitRows, float[] logits) {
        int vocab = config.vocabSize();
        int kept = finalHiddenStates(tokens, caches, logitRows, logits.length / vocab, "logits", vocab);
        Matmul.forward(logits, ln, lmHead, null, kept);
        Tensor.requireFinite(logits, kept * vocab, "the logits");
    }

    /**
     * Like {@link #forward(int[][], KVCache[], int[], float[])}, but writes the final hidden states (after ln_f;
     * for GPT-1 the last block's output) of the chosen rows to {@code hidden}, one row of n_embd per token: what mean-pooled
     * embeddings are made of.
     */
    public void hiddenStates(int[][] tokens, KVCache[] caches, int[] hiddenRows, float[] hidden) {
        int c = config.nEmbd();
        int kept = finalHiddenStates(tokens, caches, hiddenRows, hidden.length / c, "hidden", c);
        System.arraycopy(ln, 0, hidden, 0, kept * c);
    }

    /** The forward pass up to ln_f, whose output for the kept rows it leaves in {@code ln}; returns their count. */
    private int finalHiddenStates(int[][] tokens, KVCache[] caches, int[] logitRows, long outCapacityRows,
                                  String outName, int rowWidth) {
        if (tokens.length != caches.length || tokens.length != logitRows.length) {
            throw new IllegalArgumentException(tokens.length + " sequences but " + caches.length + " caches and "
                    + logitRows.length + " logit row counts");
        }
        int rows = 0;
        int outRows = 0;
        for (int s = 0; s < tokens.length; s++) {
            int start = caches[s].length();
            int end = start + tokens[s].length;
            if (end > config.nPositions()) {
                throw new IllegalArgumentException("sequence " + s + " would reach " + end
                        + " tokens, beyond the model's context of " + config.nPositions());
            }
            if (end > caches[s].capacity()) {
                throw new IllegalArgumentException("sequence " + s + " would reach " + end
                        + " tokens, beyond its KV cache capacity of " + caches[s].capacity());
            }
            if (logitRows[s] < 0 || logitRows[s] > tokens[s].length) {
                throw new IllegalArgumentException("sequence " + s + ": " + logitRows[s] + " logit rows for "
                        + tokens[s].length + " new tokens");
            }
            rows += tokens[s].length;
            outRows += logitRows[s];
        }
        if (outRows > outCapacityRows) {
            throw new IllegalArgumentException(outName + " buffer holds " + outCapacityRows + " rows of " + rowWidth
                    + " floats, " + outRows + " needed");
        }
        ensureRowCapacity(rows);

        int row = 0;
        for (int s = 0; s < tokens.length; s++) {
            for (int i = 0; i < tokens[s].length; i++, row++) {
                int token = tokens[s][i];
                if (token < 0 || token >= config.vocabSize()) {
                    throw new IllegalArgumentException("sequence " + s + ": token id " + token
                            + " outside the vocabulary [0, " + config.vocabSize() + ")");
                }
                tokenRows[row] = token;
                positionRows[row] = caches[s].length() + i;
            }
        }

        int c = config.nEmbd();
        if (wteQ8 != null) Embedding.forward(x, tokenRows, positionRows, wteQ8, weights.wpe(), rows, c);
        else Embedding.forward(x, tokenRows, positionRows, weights.wte(), weights.wpe(), rows, c);
        for (int l = 0; l < layers.length; l++) {
            block(l, tokens, caches, rows);
            Tensor.requireFinite(x, rows * c, "layer " + l + " (h." + l + ")");
        }
        for (int s = 0; s < tokens.length; s++) caches[s].advance(tokens[s].length);

        // Keep only the rows that need logits, packed at the front of x, then ln_f and the tied LM head.
        int kept = 0;
        row = 0;
        for (int s = 0; s < tokens.length; s++) {
            int first = row + tokens[s].length - logitRows[s];
            System.arraycopy(x, first * c, x, kept * c, logitRows[s] * c);
            kept += logitRows[s];
            row += tokens[s].length;
        }
        if (config.postLayerNorm()) { // GPT-1 has no ln_f: the last block's output is the final hidden state
            System.arraycopy(x, 0, ln, 0, kept * c);
            return kept;
        }
        Norms.layerNorm(ln, x, lnFGain, lnFBias, kept, c, config.layerNormEpsilon());
        return kept;
    }

    /**
     * One transformer block. GPT-2 (pre-LN): x += attn(ln_1(x)); x += mlp(ln_2(x)). GPT-1 (post-LN):
     * x = ln_1(x + attn(x)); x = ln_2(x + mlp(x)).
     */
    private void block(int l, int[][] tokens, KVCache[] caches, int rows) {
        Layer layer = layers[l];
        int c = config.nEmbd();
        int inner = config.innerDim();
        float eps = config.layerNormEpsilon();
        boolean post = config.postLayerNorm();

        if (!post) Norms.layerNorm(ln, x, layer.ln1Gain, layer.ln1Bias, rows, c, eps);
        Matmul.forward(qkv, post ? x : ln, layer.attn, layer.attnBias, rows);
        int row = 0;
        for (int s = 0; s < tokens.length; s++) {
            int count = tokens[s].length;
            int start = caches[s].length();
            float[] keys = caches[s].keys[l];
            float[] values = caches[s].values[l];
            for (int i = 0; i < count; i++) {
                int src = (row + i) * 3 * c;
                System.arraycopy(qkv, src + c, keys, (start + i) * c, c);
                System.arraycopy(qkv, src + 2 * c, values, (start + i) * c, c);
            }
            Attention.causal(att, row * c, c, qkv, row * 3 * c, 3 * c, keys, values, count, start,
                    config.nHead(), config.headDim(), layer.attnScale);
            row += count;
        }
        Matmul.forward(proj, att, layer.attnProj, layer.attnProjBias, rows);
        Activations.add(x, proj, rows * c);
        if (post) {
            Norms.layerNorm(ln, x, layer.ln1Gain, layer.ln1Bias, rows, c, eps);
            System.arraycopy(ln, 0, x, 0, rows * c);
        } else {
            Norms.layerNorm(ln, x, layer.ln2Gain, layer.ln2Bias, rows, c, eps);
        }

        Matmul.forward(hidden, post ? x : ln, layer.fc, layer.fcBias, rows);
        Activations.gelu(hidden, hidden, rows * inner);
        Matmul.forward(proj, hidden, layer.fcProj, layer.fcProjBias, rows);
        Activations.add(x, proj, rows * c);
        if (post) {
            Norms.layerNorm(ln, x, layer.ln2Gain, layer.ln2Bias, rows, c, eps);
            System.arraycopy(ln, 0, x, 0, rows * c);
        }
    }

    private void ensureRowCapacity(int rows) {
        if (rows <= rowCapacity) return;
        int c = config.nEmbd();
        x = new float[rows * c];
        ln = new float[rows * c];
        qkv = new float[rows * 3 * c];
        att = new float[rows * c];
        proj = new float[rows * c];
        hidden = new float[rows * config.innerDim()];
        tokenRows = new int[rows];
        positionRows = new int[rows];
        rowCapacity = rows;
    }
}
