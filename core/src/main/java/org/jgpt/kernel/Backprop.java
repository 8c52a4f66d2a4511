package org.jgpt.kernel;

/**
 * The layers of GPT-2 training, llm.c style: each layer's training forward (which keeps what its backward needs)
 * beside its backward. Backward functions accumulate ({@code +=}) into gradient buffers, so a buffer read by two
 * branches (the residual stream) collects both. Shapes use R = rows (batch × time), C = channels.
 */
public final class Backprop {
    private static final float GELU_SCALE = (float) Math.sqrt(2.0 / Math.PI);

    private Backprop() {}

    // ---- token and position embedding --------------------------------------------------------------------------

    /** {@code out[b,t] = wte[tokens[b,t]] + wpe[t]}, for R = batch × seqLen rows. */
    public static void embeddingForward(float[] out, int[] tokens, float[] wte, float[] wpe, int batch, int seqLen, int dim) {
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seqLen; t++) {
                int row = b * seqLen + t;
                int tokenBase = tokens[row] * dim;
                int posBase = t * dim;
                for (int c = 0; c < dim; c++) out[row * dim + c] = wte[tokenBase + c] + wpe[posBase + c];
            }
        }
    }

    public static void embeddingBackward(float[] dWte, float[] dWpe, float[] dOut, int[] tokens, int batch, int seqLen, int dim) {
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seqLen; t++) {
                int row = b * seqLen + t;
                int tokenBase = tokens[row] * dim;
                int posBase = t * dim;
                for (int c = 0; c < dim; c++) {
                    float g = dOut[row * dim + c];
                    dWte[tokenBase + c] += g;
                    dWpe[posBase + c] += g;
                }
            }
        }
    }

    // ---- LayerNorm ---------------------------------------------------------------------------------------------

    /** LayerNorm that also keeps each row's mean and reciprocal standard deviation for the backward. */
    public static void layerNormForward(float[] out, float[] mean, float[] rstd, float[] in, float[] gamma, float[] beta,
                                        int rows, int dim, float eps) {
        Parallel.forEach(rows, r -> {
            int base = r * dim;
            float m = 0f;
            for (int i = 0; i < dim; i++) m += in[base + i];
            m /= dim;
            float v = 0f;
            for (int i = 0; i < dim; i++) {
                float d = in[base + i] - m;
                v += d * d;
            }
            v /= dim;
            float s = (float) (1.0 / Math.sqrt(v + eps));
            for (int i = 0; i < dim; i++) out[base + i] = (in[base + i] - m) * s * gamma[i] + beta[i];
            mean[r] = m;
            rstd[r] = s;
        });
    }

    public static void layerNormBackward(float[] dIn, float[] dGamma, float[] dBeta, float[] dOut, float[] in,
                                         float[] gamma, float[] mean, float[] rstd, int rows, int dim) {
        for (int r = 0; r < rows; r++) {
            int base = r * dim;
            float m = mean[r];
            float s = rstd[r];
            float dNormMean = 0f;
            float dNormNormMean = 0f;
            for (int i = 0; i < dim; i++) {
                float norm = (in[base + i] - m) * s;
                float dNorm = gamma[i] * dOut[base + i];
                dNormMean += dNorm;
                dNormNormMean += dNorm * norm;
            }
            dNormMean /= dim;
            dNormNormMean /= dim;
            for (int i = 0; i < dim; i++) {
                float norm = (in[base + i] - m) * s;
                float dNorm = gamma[i] * dOut[base + i];
                dBeta[i] += dOut[base + i];
                dGamma[i] += norm * dOut[base + i];
                dIn[base + i] += (dNorm - dNormMean - norm * dNormNormMean) * s;
            }
        }
    }

    // ---- linear layers (Conv1D: weight [in, out]); their matmuls are Matmul.forward, backwardInput, backwardWeight --

    /** {@code dBias[o] += sum_r dOut[r, o]}. */
    public static void biasGradient(float[] dBias, float[] dOut, int rows, int outDim) {
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outDim; o++) dBias[o] += dOut[r * outDim + o];
        }
    }

    // ---- dropout -----------------------------------------------------------------------------------------------

    /**
     * Fills {@code mask} for inverted dropout: each element is 0 with probability {@code p}, else 1/(1-p). The
     * random stream depends on {@code seed} alone, so a resumed run draws the same masks.
     */
    public static void dropoutMask(float[] mask, int n, float p, long seed) {
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        float keep = 1f / (1f - p);
        for (int i = 0; i < n; i++) mask[i] = random.nextFloat() < p ? 0f : keep;
    }

    /** {@code x[i] *= mask[i]}: dropout's forward, and its backward on the gradient. */
    public static void applyMask(float[] x, float[] mask, int n) {
        for (int i = 0; i < n; i++) x[i] *= mask[i];
    }

    // ---- tanh-GELU ---------------------------------------------------------------------------------------------

    public static void geluBackward(float[] dIn, float[] in, float[] dOut, int n) {
        for (int i = 0; i < n; i++) {
            float x = in[i];
            float cube = 0.044715f * x * x * x;
            float tanhOut = (float) Math.tanh(GELU_SCALE * (x + cube));
            float sech2 = 1f - tanhOut * tanhOut;
            float local = 0.5f * (1f + tanhOut) + x * 0.5f * sech2 * GELU_SCALE * (1f + 3f * 0.044715f * x * x);
            dIn[i] += local * dOut[i];
        }
    }

    // ---- causal self-attention ---------------------------------------------------------------------------------

    /**
     * Causal attention over packed {@code qkv} ([R, 3C]: q, k, v). Keeps the softmax probabilities in {@code att}
     * ([batch, nHead, T, T], row t holds positions 0..t) for the backward; writes {@code out} [R, C].
     * {@code dropout}, when not null, is a mask of att's shape applied to the probabilities before they weight V.
     */
    public static void attentionForward(float[] out, float[] att, float[] dropout, float[] qkv, int batch, int seqLen,
                                        int dim, int nHead, float scale) {
        int headDim = dim / nHead;
        int stride = 3 * dim;
        Parallel.forEach(batch * nHead, task -> {
            int b = task / nHead;
            int h = task % nHead;
            for (int t = 0; t < seqLen; t++) {
                int qBase = (b * seqLen + t) * stride + h * headDim;
                int attBase = ((b * nHead + h) * seqLen + t) * seqLen;
                float max = Float.NEGATIVE_INFINITY;
                for (int u = 0; u <= t; u++) {
                    int kBase = (b * seqLen + u) * stride + dim + h * headDim;
                    float dot = 0f;
                    for (int d = 0; d < headDim; d++) dot += qkv[qBase + d] * qkv[kBase + d];
                    dot *= scale;
                    att[attBase + u] = dot;
                    max = Math.max(max, dot);
                }
                float sum = 0f;
                for (int u = 0; u <= t; u++) {
                    float e = (float) Math.exp(att[attBase + u] - max);
                    att[attBase + u] = e;
                    sum += e;
                }
                float inv = 1f / sum;
                for (int u = 0; u <= t; u++) att[attBase + u] *= inv;
                for (int u = t + 1; u < seqLen; u++) att[attBase + u] = 0f;
                int oBase = (b * seqLen + t) * dim + h * headDim;
                for (int d = 0; d < headDim; d++) out[oBase + d] = 0f;
                for (int u = 0; u <= t; u++) {
                    float p = dropout == null ? att[attBase + u] : att[attBase + u] * dropout[attBase + u];
                    int vBase = (b * seqLen + u) * stride + 2 * dim + h * headDim;
                    for (int d = 0; d < headDim; d++) out[oBase + d] += p * qkv[vBase + d];
                }
            }
        });
    }

    /** Accumulates {@code dQkv} from {@code dOut}; {@code att} and {@code dropout} are the forward's. */
    public static void attentionBackward(float[] dQkv, float[] dOut, float[] qkv, float[] att, float[] dropout, int batch,
                                         int seqLen, int dim, int nHead, float scale) {
        int headDim = dim / nHead;
        int stride = 3 * dim;
        Parallel.forEach(batch * nHead, task -> {
            int b = task / nHead;
            int h = task % nHead;
            float[] dAtt = new float[seqLen];
            for (int t = 0; t < seqLen; t++) {
                int attBase = ((b * nHead + h) * seqLen + t) * seqLen;
                int oBase = (b * seqLen + t) * dim + h * headDim;
                for (int u = 0; u <= t; u++) {
                    int vBase = (b * seqLen + u) * stride + 2 * dim + h * headDim;
                    float keep = dropout == null ? 1f : dropout[attBase + u];
                    float p = att[attBase + u] * keep;
                    float dot = 0f;
                    for (int d = 0; d < headDim; d++) {
                        dot += dOut[oBase + d] * qkv[vBase + d];
                        dQkv[vBase + d] += p * dOut[oBase + d];
                    }
                    dAtt[u] = dot * keep;
                }
                float weighted = 0f;
                for (int u = 0; u <= t; u++) weighted += att[attBase + u] * dAtt[u];
                int qBase = (b * seqLen + t) * stride + h * headDim;
                for (int u = 0; u <= t; u++) {
                    float dScore = att[attBase + u] * (dAtt[u] - weighted) * scale;
                    int kBase = (b * seqLen + u) * stride + dim + h * headDim;
                    for (int d = 0; d < headDim; d++) {
                        dQkv[qBase + d] += dScore * qkv[kBase + d];
                        dQkv[kBase + d] += dScore * qkv[qBase + d];
                    }
                }
            }
        });
    }

    // ---- softmax cross-entropy ---------------------------------------------------------------------------------

    /**
     * Turns {@code logits} ([R, V]) into probabilities in place and writes each row's loss
     * {@code -log p[target]}; returns the mean loss. Rows whose target is negative are ignored (loss 0).
     */
    public static float crossEntropyForward(float[] losses, float[] logits, int[] targets, int rows, int vocab) {
        Parallel.forEach(rows, r -> {
            int base = r * vocab;
            float max = Float.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) max = Math.max(max, logits[base + v]);
            double sum = 0;
            for (int v = 0; v < vocab; v++) {
                float e = (float) Math.exp(logits[base + v] - max);
                logits[base + v] = e;
                sum += e;
            }
            float inv = (float) (1.0 / sum);
            for (int v = 0; v < vocab; v++) logits[base + v] *= inv;
            losses[r] = targets[r] < 0 ? 0f : (float) -Math.log(logits[base + targets[r]]);
        });
        double total = 0;
        int counted = 0;
        for (int r = 0; r < rows; r++) {
            if (targets[r] >= 0) {
                total += losses[r];
                counted++;
            }
        }
        return counted == 0 ? 0f : (float) (total / counted);
    }

    /**
     * Turns the probabilities left by {@link #crossEntropyForward} into the gradient of {@code lossScale} × the mean
     * loss, in place ({@code lossScale} is 1 / accumulation steps when gradients are accumulated).
     */
    public static void crossEntropyBackward(float[] probs, int[] targets, int rows, int vocab, float lossScale) {
        int counted = 0;
        for (int r = 0; r < rows; r++) if (targets[r] >= 0) counted++;
        float scale = counted == 0 ? 0f : lossScale / counted;
        Parallel.forEach(rows, r -> {
            int base = r * vocab;
            if (targets[r] < 0) {
                java.util.Arrays.fill(probs, base, base + vocab, 0f);
                return;
            }
            for (int v = 0; v < vocab; v++) probs[base + v] *= scale;
            probs[base + targets[r]] -= scale;
        });
    }
}
