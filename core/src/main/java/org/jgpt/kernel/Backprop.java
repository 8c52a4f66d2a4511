package org.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The layers of GPT-2 training, llm.c style: each layer's training forward (which keeps what its backward needs)
 * beside its backward. Backward functions accumulate ({@code +=}) into gradient buffers, so a buffer read by two
 * branches (the residual stream) collects both. Shapes use R = rows (batch × time), C = channels.
 */
public final class Backprop {
    private static final VectorSpecies<Float> F = Lanes.FLOATS;
    private static final int L = Lanes.LENGTH;
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

    /** {@code dIn[i] += gelu'(in[i]) · dOut[i]}, for GPT-2's tanh GELU. */
    public static void geluBackward(float[] dIn, float[] in, float[] dOut, int n) {
        int chunk = 1 << 14;
        Parallel.forEach((n + chunk - 1) / chunk, c -> {
            int end = Math.min(n, (c + 1) * chunk);
            int i = c * chunk;
            for (; i < end; i += L) {
                var valid = F.indexInRange(i, end);
                FloatVector x = FloatVector.fromArray(F, in, i, valid);
                FloatVector x2 = x.mul(x);
                FloatVector u = x2.mul(0.044715f).add(1f).mul(x).mul(GELU_SCALE);
                FloatVector tanh = VectorMath.tanh(u);
                FloatVector sech2 = tanh.mul(tanh).neg().add(1f);
                FloatVector local = tanh.add(1f).mul(0.5f)
                        .add(x.mul(0.5f).mul(sech2).mul(x2.mul(3f * 0.044715f).add(1f)).mul(GELU_SCALE));
                FloatVector.fromArray(F, dIn, i, valid).add(local.mul(FloatVector.fromArray(F, dOut, i, valid)))
                        .intoArray(dIn, i, valid);
            }
        });
    }

    /** {@code dIn[i] += gelu'(in[i]) · dOut[i]}, for BERT's exact GELU: {@code gelu' = Φ(x) + x φ(x)}. */
    public static void geluErfBackward(float[] dIn, float[] in, float[] dOut, int n) {
        int chunk = 1 << 14;
        float invSqrt2Pi = (float) (1 / Math.sqrt(2 * Math.PI));
        Parallel.forEach((n + chunk - 1) / chunk, c -> {
            int end = Math.min(n, (c + 1) * chunk);
            for (int i = c * chunk; i < end; i += L) {
                var valid = F.indexInRange(i, end);
                FloatVector x = FloatVector.fromArray(F, in, i, valid);
                FloatVector z = x.mul(Activations.INV_SQRT_2);
                FloatVector gaussian = VectorMath.exp(z.mul(z).neg()); // e^{-x²/2}, in the cdf and the density
                FloatVector cdf = VectorMath.erf(z, gaussian).add(1f).mul(0.5f);
                FloatVector pdf = gaussian.mul(invSqrt2Pi);
                FloatVector local = x.fma(pdf, cdf);
                FloatVector.fromArray(F, dIn, i, valid).add(local.mul(FloatVector.fromArray(F, dOut, i, valid)))
                        .intoArray(dIn, i, valid);
            }
        });
    }

    // ---- self-attention, causal (GPT) or bidirectional over each sequence's first keys (BERT) ---------------------------------------------------------------------------------

    /** Per-thread scratch for one (sequence, head): its q, k, v rows, their transposes, and their gradients. */
    private static final ThreadLocal<float[][]> HEAD_SCRATCH = ThreadLocal.withInitial(() -> new float[0][]);

    private static float[][] headScratch(int seqLen, int headDim) {
        float[][] s = HEAD_SCRATCH.get();
        int size = seqLen * headDim;
        int row = Math.max(seqLen, headDim); // rows 8 and 9 hold a row of scores or of one head's outputs
        int square = seqLen * seqLen; // 10 and 11 hold a head's [T, T] score gradients and dropped-out probabilities
        if (s.length == 0 || s[0].length < size || s[8].length < row || s[10].length < square) {
            s = new float[][] {new float[size], new float[size], new float[size], new float[size], new float[size],
                    new float[size], new float[size], new float[size], new float[row], new float[row],
                    new float[square], new float[square]};
            HEAD_SCRATCH.set(s);
        }
        return s;
    }

    /** Copies head {@code h} of q, k and v for sequence {@code b} into contiguous [T, headDim] rows (and kᵀ, vᵀ). */
    private static void gatherHead(float[][] s, float[] qkv, int b, int h, int seqLen, int dim, int headDim) {
        float[] q = s[0], k = s[1], v = s[2], kT = s[3], vT = s[4];
        for (int t = 0; t < seqLen; t++) {
            int base = (b * seqLen + t) * 3 * dim + h * headDim;
            System.arraycopy(qkv, base, q, t * headDim, headDim);
            System.arraycopy(qkv, base + dim, k, t * headDim, headDim);
            System.arraycopy(qkv, base + 2 * dim, v, t * headDim, headDim);
            for (int d = 0; d < headDim; d++) {
                kT[d * seqLen + t] = k[t * headDim + d];
                vT[d * seqLen + t] = v[t * headDim + d];
            }
        }
    }

    /**
     * {@code out[outOffset, +n) = sum_i w[wOffset + i·wStride] · x[xOffset + i·xStride, +n)} for i below
     * {@code count}: a row vector times a matrix, the sums of four vectors of columns at a time kept in registers.
     * Attention is made of these (scores, outputs and every gradient); an axpy per term would load and store the
     * output row once per term.
     */
    private static void weightedRowSum(float[] out, int outOffset, float[] w, int wOffset, int wStride, float[] x,
                                       int xOffset, int xStride, int count, int n) {
        int j = 0;
        for (; j + 4 * L <= n; j += 4 * L) {
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            for (int i = 0, wi = wOffset, xi = xOffset + j; i < count; i++, wi += wStride, xi += xStride) {
                FloatVector a = FloatVector.broadcast(F, w[wi]);
                s0 = a.fma(FloatVector.fromArray(F, x, xi), s0);
                s1 = a.fma(FloatVector.fromArray(F, x, xi + L), s1);
                s2 = a.fma(FloatVector.fromArray(F, x, xi + 2 * L), s2);
                s3 = a.fma(FloatVector.fromArray(F, x, xi + 3 * L), s3);
            }
            s0.intoArray(out, outOffset + j);
            s1.intoArray(out, outOffset + j + L);
            s2.intoArray(out, outOffset + j + 2 * L);
            s3.intoArray(out, outOffset + j + 3 * L);
        }
        for (; j < n; j += L) {
            VectorMask<Float> lanes = F.indexInRange(j, n);
            FloatVector sum = FloatVector.zero(F);
            for (int i = 0, wi = wOffset, xi = xOffset + j; i < count; i++, wi += wStride, xi += xStride) {
                sum = FloatVector.broadcast(F, w[wi]).fma(FloatVector.fromArray(F, x, xi, lanes), sum);
            }
            sum.intoArray(out, outOffset + j, lanes);
        }
    }

    /**
     * {@link #weightedRowSum} for {@code rows} (at most four) rows of output at once, row r at {@code outOffset + r ·
     * outStride} with its weights from {@code wOffset + r · wRowStride}: a small GEMM whose every load of x serves
     * four rows, sixteen sums in registers.
     */
    private static void weightedRowSums(float[] out, int outOffset, int outStride, int rows, float[] w, int wOffset,
                                        int wRowStride, int wStride, float[] x, int xOffset, int xStride, int count,
                                        int n) {
        if (rows < 4) {
            for (int r = 0; r < rows; r++) {
                weightedRowSum(out, outOffset + r * outStride, w, wOffset + r * wRowStride, wStride, x, xOffset,
                        xStride, count, n);
            }
            return;
        }
        int o0 = outOffset, o1 = o0 + outStride, o2 = o1 + outStride, o3 = o2 + outStride;
        int j = 0;
        for (; j + 4 * L <= n; j += 4 * L) {
            FloatVector s00 = FloatVector.zero(F), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00,
                    s13 = s00, s20 = s00, s21 = s00, s22 = s00, s23 = s00, s30 = s00, s31 = s00, s32 = s00, s33 = s00;
            for (int i = 0, wi = wOffset, xi = xOffset + j; i < count; i++, wi += wStride, xi += xStride) {
                FloatVector x0 = FloatVector.fromArray(F, x, xi), x1 = FloatVector.fromArray(F, x, xi + L);
                FloatVector x2 = FloatVector.fromArray(F, x, xi + 2 * L), x3 = FloatVector.fromArray(F, x, xi + 3 * L);
                FloatVector a = FloatVector.broadcast(F, w[wi]);
                s00 = a.fma(x0, s00);
                s01 = a.fma(x1, s01);
                s02 = a.fma(x2, s02);
                s03 = a.fma(x3, s03);
                a = FloatVector.broadcast(F, w[wi + wRowStride]);
                s10 = a.fma(x0, s10);
                s11 = a.fma(x1, s11);
                s12 = a.fma(x2, s12);
                s13 = a.fma(x3, s13);
                a = FloatVector.broadcast(F, w[wi + 2 * wRowStride]);
                s20 = a.fma(x0, s20);
                s21 = a.fma(x1, s21);
                s22 = a.fma(x2, s22);
                s23 = a.fma(x3, s23);
                a = FloatVector.broadcast(F, w[wi + 3 * wRowStride]);
                s30 = a.fma(x0, s30);
                s31 = a.fma(x1, s31);
                s32 = a.fma(x2, s32);
                s33 = a.fma(x3, s33);
            }
            s00.intoArray(out, o0 + j);
            s01.intoArray(out, o0 + j + L);
            s02.intoArray(out, o0 + j + 2 * L);
            s03.intoArray(out, o0 + j + 3 * L);
            s10.intoArray(out, o1 + j);
            s11.intoArray(out, o1 + j + L);
            s12.intoArray(out, o1 + j + 2 * L);
            s13.intoArray(out, o1 + j + 3 * L);
            s20.intoArray(out, o2 + j);
            s21.intoArray(out, o2 + j + L);
            s22.intoArray(out, o2 + j + 2 * L);
            s23.intoArray(out, o2 + j + 3 * L);
            s30.intoArray(out, o3 + j);
            s31.intoArray(out, o3 + j + L);
            s32.intoArray(out, o3 + j + 2 * L);
            s33.intoArray(out, o3 + j + 3 * L);
        }
        for (; j < n; j += L) {
            VectorMask<Float> lanes = F.indexInRange(j, n);
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            for (int i = 0, wi = wOffset, xi = xOffset + j; i < count; i++, wi += wStride, xi += xStride) {
                FloatVector xv = FloatVector.fromArray(F, x, xi, lanes);
                s0 = FloatVector.broadcast(F, w[wi]).fma(xv, s0);
                s1 = FloatVector.broadcast(F, w[wi + wRowStride]).fma(xv, s1);
                s2 = FloatVector.broadcast(F, w[wi + 2 * wRowStride]).fma(xv, s2);
                s3 = FloatVector.broadcast(F, w[wi + 3 * wRowStride]).fma(xv, s3);
            }
            s0.intoArray(out, o0 + j, lanes);
            s1.intoArray(out, o1 + j, lanes);
            s2.intoArray(out, o2 + j, lanes);
            s3.intoArray(out, o3 + j, lanes);
        }
    }

    /**
     * Attention over packed {@code qkv} ([R, 3C]: q, k, v): causal when {@code keyLengths} is null, else every
     * position of sequence b sees keys 0..keyLengths[b]-1 (the rest is right padding). Keeps the softmax
     * probabilities in {@code att} ([batch, nHead, T, T], row t holds the visible positions, zero after them) for the
     * backward; writes {@code out} [R, C].
     * {@code dropout}, when not null, is a mask of att's shape applied to the probabilities before they weight V.
     * One task per (sequence, head); scores, outputs and every gradient go four rows at a time through
     * {@link #weightedRowSums}.
     */
    public static void attentionForward(float[] out, float[] att, float[] dropout, float[] qkv, int[] keyLengths,
                                        int batch, int seqLen, int dim, int nHead, float scale) {
        attention(out, att, dropout, qkv, qkv, keyLengths, null, batch, seqLen, dim, nHead, scale);
    }

    /** Accumulates {@code dQkv} from {@code dOut}; {@code att} and {@code dropout} are the forward's. */
    public static void attentionBackward(float[] dQkv, float[] dOut, float[] qkv, float[] att, float[] dropout,
                                         int[] keyLengths, int batch, int seqLen, int dim, int nHead, float scale) {
        attentionGradients(dQkv, dQkv, dOut, qkv, qkv, att, dropout, keyLengths, null, batch, seqLen, dim, nHead, scale);
    }

    /**
     * Attention where query t of sequence b sees key u only if {@code visible[(b·T + t)·T + u]}: the queries are
     * the q part of {@code queries} ([R, 3C]), the keys and values the k and v parts of {@code keysValues} (the same
     * array for ordinary self-attention; the content stream's for XLNet's query stream). A query that sees no key
     * gets zero output. {@code att} ([batch, nHead, T, T]) keeps the probabilities, zero where not visible;
     * {@code dropout} as in {@link #attentionForward}. Scores are computed over all keys, a hidden key's then given
     * no weight.
     */
    public static void maskedAttentionForward(float[] out, float[] att, float[] dropout, float[] queries,
                                              float[] keysValues, boolean[] visible, int batch, int seqLen, int dim,
                                              int nHead, float scale) {
        attention(out, att, dropout, queries, keysValues, null, visible, batch, seqLen, dim, nHead, scale);
    }

    /**
     * The backward of {@link #maskedAttentionForward}: accumulates the q gradient into {@code dQueries} and the k and
     * v gradients into {@code dKeysValues} (both [R, 3C]; the same array for ordinary self-attention). A hidden key's
     * probability is zero, so its score gradient is too, with no test of the mask.
     */
    public static void maskedAttentionBackward(float[] dQueries, float[] dKeysValues, float[] dOut, float[] queries,
                                               float[] keysValues, float[] att, float[] dropout, boolean[] visible,
                                               int batch, int seqLen, int dim, int nHead, float scale) {
        attentionGradients(dQueries, dKeysValues, dOut, queries, keysValues, att, dropout, null, visible, batch, seqLen,
                dim, nHead, scale);
    }

    /**
     * The forward of both kinds: query t of sequence b sees the keys {@code mask} marks if it is given, else keys
     * 0..keyLengths[b]-1 if those are, else keys 0..t.
     */
    private static void attention(float[] out, float[] att, float[] dropout, float[] queries, float[] keysValues,
                                  int[] keyLengths, boolean[] mask, int batch, int seqLen, int dim, int nHead,
                                  float scale) {
        int headDim = dim / nHead;
        Parallel.forEach(batch * nHead, task -> {
            int b = task / nHead;
            int h = task % nHead;
            float[][] s = headScratch(seqLen, headDim);
            gatherHead(s, keysValues, b, h, seqLen, dim, headDim);
            if (queries != keysValues) gatherQueries(s, queries, b, h, seqLen, dim, headDim);
            float[] q = s[0], v = s[2], kT = s[3], kept = s[11];
            int headBase = (b * nHead + h) * seqLen * seqLen;
            // the probabilities as they weight V: p, or p through the dropout mask
            float[] weights = dropout == null ? att : kept;
            int weightsBase = dropout == null ? headBase : 0;
            for (int i = 0; i < seqLen * headDim; i++) q[i] *= scale;
            // four query rows at a time, over the keys the last of them sees (the others' extra scores are cleared)
            for (int t0 = 0; t0 < seqLen; t0 += 4) {
                int rows = Math.min(4, seqLen - t0);
                int seen = keysSeen(keyLengths, mask, b, t0 + rows, seqLen);
                weightedRowSums(att, headBase + t0 * seqLen, seqLen, rows, q, t0 * headDim, headDim, 1, kT, 0, seqLen,
                        headDim, seen);
                for (int t = t0; t < t0 + rows; t++) {
                    int row = headBase + t * seqLen;
                    softmaxOverVisible(att, row, seqLen, b, t, keyLengths, mask);
                    if (dropout != null) {
                        for (int u = 0; u < seen; u++) kept[t * seqLen + u] = att[row + u] * dropout[row + u];
                    }
                }
                weightedRowSums(out, (b * seqLen + t0) * dim + h * headDim, dim, rows, weights,
                        weightsBase + t0 * seqLen, seqLen, 1, v, 0, headDim, seen, headDim);
            }
        });
    }

    /** The backward of {@link #attention}, for either kind. */
    private static void attentionGradients(float[] dQueries, float[] dKeysValues, float[] dOut, float[] queries,
                                           float[] keysValues, float[] att, float[] dropout, int[] keyLengths,
                                           boolean[] mask, int batch, int seqLen, int dim, int nHead, float scale) {
        int headDim = dim / nHead;
        boolean causal = keyLengths == null && mask == null;
        Parallel.forEach(batch * nHead, task -> {
            int b = task / nHead;
            int h = task % nHead;
            float[][] s = headScratch(seqLen, headDim);
            gatherHead(s, keysValues, b, h, seqLen, dim, headDim);
            if (queries != keysValues) gatherQueries(s, queries, b, h, seqLen, dim, headDim);
            float[] q = s[0], k = s[1], dOutHead = s[3] /* kT's slot: not needed here */, vT = s[4], dq = s[5], dk = s[6], dv = s[7];
            float[] dScores = s[10], kept = s[11];
            int headBase = (b * nHead + h) * seqLen * seqLen;
            gatherOutputGradient(dOutHead, dOut, b, h, seqLen, dim, headDim);
            float[] weights = weightsOfValues(att, dropout, kept, headBase, seqLen * seqLen);
            int weightsBase = weights == att ? headBase : 0;
            for (int t0 = 0; t0 < seqLen; t0 += 4) {
                int rows = Math.min(4, seqLen - t0);
                int seen = keysSeen(keyLengths, mask, b, t0 + rows, seqLen);
                // dP[t, u] = dOut[t] · v[u], four query rows at a time
                weightedRowSums(dScores, t0 * seqLen, seqLen, rows, dOutHead, t0 * headDim, headDim, 1, vT, 0, seqLen,
                        headDim, seen);
                for (int t = t0; t < t0 + rows; t++) {
                    int row = t * seqLen;
                    // under a mask, every key: a hidden one's probability is zero, and so is its score gradient
                    int visible = keysSeen(keyLengths, mask, b, t + 1, seqLen);
                    if (dropout != null) { // through the dropout mask
                        for (int u = 0; u < visible; u++) dScores[row + u] *= dropout[headBase + row + u];
                    }
                    // softmax backward: dS[u] = p[u] (dP[u] - sum_w p[w] dP[w]), then the scale
                    float weighted = 0f;
                    for (int u = 0; u < visible; u++) weighted += att[headBase + row + u] * dScores[row + u];
                    for (int u = 0; u < visible; u++) {
                        dScores[row + u] = att[headBase + row + u] * (dScores[row + u] - weighted) * scale;
                    }
                    java.util.Arrays.fill(dScores, row + visible, row + seqLen, 0f);
                }
                weightedRowSums(dq, t0 * headDim, headDim, rows, dScores, t0 * seqLen, seqLen, 1, k, 0, headDim, seen,
                        headDim);
            }
            // key u is seen by queries u.. (causal) or by any query (a padding or hidden key's weights are all zero);
            // four keys at a time, from the queries the first of them is seen by
            for (int u0 = 0; u0 < seqLen; u0 += 4) {
                int rows = Math.min(4, seqLen - u0);
                int from = causal ? u0 : 0;
                weightedRowSums(dv, u0 * headDim, headDim, rows, weights, weightsBase + from * seqLen + u0, 1, seqLen,
                        dOutHead, from * headDim, headDim, seqLen - from, headDim);
                weightedRowSums(dk, u0 * headDim, headDim, rows, dScores, from * seqLen + u0, 1, seqLen, q,
                        from * headDim, headDim, seqLen - from, headDim);
            }
            addHeadGradients(dQueries, dKeysValues, dq, dk, dv, b, h, seqLen, dim, headDim);
        });
    }

    /**
     * How many keys, from the first, the queries before {@code end} of sequence b see between them: the scores to
     * compute. Under a mask, all of them.
     */
    private static int keysSeen(int[] keyLengths, boolean[] mask, int b, int end, int seqLen) {
        if (mask != null) return seqLen;
        return keyLengths != null ? keyLengths[b] : end;
    }

    /**
     * Row t's scores at {@code att[row..]} as probabilities over the keys the query sees, zero elsewhere (all zero for
     * a query that sees none).
     */
    private static void softmaxOverVisible(float[] att, int row, int seqLen, int b, int t, int[] keyLengths,
                                           boolean[] mask) {
        if (mask == null) {
            int visible = keysSeen(keyLengths, null, b, t + 1, seqLen);
            java.util.Arrays.fill(att, row + visible, row + seqLen, 0f);
            Activations.softmax(att, row, visible);
            return;
        }
        int maskBase = (b * seqLen + t) * seqLen;
        boolean any = false;
        for (int u = 0; u < seqLen; u++) {
            if (mask[maskBase + u]) any = true;
            else att[row + u] = Float.NEGATIVE_INFINITY;
        }
        if (any) Activations.softmax(att, row, seqLen); // exp(-inf) = 0: hidden keys get no weight
        else java.util.Arrays.fill(att, row, row + seqLen, 0f);
    }

    /**
     * The probabilities of the head at {@code headBase} as they weighted V in the forward: {@code att} itself, or,
     * under dropout, {@code att} through the mask, written into {@code kept} from 0.
     */
    private static float[] weightsOfValues(float[] att, float[] dropout, float[] kept, int headBase, int square) {
        if (dropout == null) return att;
        for (int i = 0; i < square; i++) kept[i] = att[headBase + i] * dropout[headBase + i];
        return kept;
    }

    /** Head {@code h} of {@code dOut}'s rows ([R, C]) for sequence {@code b}, as contiguous [T, headDim] rows. */
    private static void gatherOutputGradient(float[] dOutHead, float[] dOut, int b, int h, int seqLen, int dim, int headDim) {
        for (int t = 0; t < seqLen; t++) {
            System.arraycopy(dOut, (b * seqLen + t) * dim + h * headDim, dOutHead, t * headDim, headDim);
        }
    }

    /**
     * Adds one head's q, k and v gradients ([T, headDim] each) of sequence {@code b} into the q part of
     * {@code dQueries} and the k and v parts of {@code dKeysValues} ([R, 3C]; the same array for self-attention).
     */
    private static void addHeadGradients(float[] dQueries, float[] dKeysValues, float[] dq, float[] dk, float[] dv, int b,
                                         int h, int seqLen, int dim, int headDim) {
        for (int t = 0; t < seqLen; t++) {
            int base = (b * seqLen + t) * 3 * dim + h * headDim;
            for (int d = 0; d < headDim; d++) {
                dQueries[base + d] += dq[t * headDim + d];
                dKeysValues[base + dim + d] += dk[t * headDim + d];
                dKeysValues[base + 2 * dim + d] += dv[t * headDim + d];
            }
        }
    }

    /** Overwrites the q rows of {@code s} by head {@code h} of {@code queries}' q part for sequence {@code b}. */
    private static void gatherQueries(float[][] s, float[] queries, int b, int h, int seqLen, int dim, int headDim) {
        for (int t = 0; t < seqLen; t++) System.arraycopy(queries, (b * seqLen + t) * 3 * dim + h * headDim, s[0], t * headDim, headDim);
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
