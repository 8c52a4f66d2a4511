package org.jgpt.model;

import org.jgpt.kernel.Tensor;

/**
 * GPT-2's forward pass written as plainly as possible, in double precision, with no cache: the reference that
 * {@link GPT2Model} is checked against when no PyTorch fixture is at hand. Follows Hugging Face's GPT2LMHeadModel.
 */
public final class NaiveGPT2 {
    private NaiveGPT2() {}

    /** Logits [tokens.length][vocab] for one sequence starting at position 0. */
    public static double[][] logits(GPT2Weights w, int[] tokens) {
        GPT2Config cfg = w.config();
        int n = tokens.length, c = cfg.nEmbd(), heads = cfg.nHead(), hd = cfg.headDim();
        double[][] h = new double[n][c];
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < c; i++) h[t][i] = at(w.wte(), tokens[t], i, c) + at(w.wpe(), t, i, c);
        }
        for (int l = 0; l < cfg.nLayer(); l++) {
            LayerWeights lw = w.layers().get(l);
            double[][] a = layerNorm(h, lw.ln1Weight(), lw.ln1Bias(), cfg.layerNormEpsilon());
            double[][] qkv = linear(a, lw.attnWeight(), lw.attnBias(), c, 3 * c);
            double scale = cfg.scaleAttnWeights() ? 1 / Math.sqrt(hd) : 1;
            if (cfg.scaleAttnByInverseLayerIdx()) scale /= l + 1;
            double[][] y = new double[n][c];
            for (int head = 0; head < heads; head++) {
                for (int t = 0; t < n; t++) {
                    double[] p = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u <= t; u++) {
                        double dot = 0;
                        for (int d = 0; d < hd; d++) dot += qkv[t][head * hd + d] * qkv[u][c + head * hd + d];
                        p[u] = dot * scale;
                        max = Math.max(max, p[u]);
                    }
                    double sum = 0;
                    for (int u = 0; u <= t; u++) sum += p[u] = Math.exp(p[u] - max);
                    for (int u = 0; u <= t; u++) {
                        for (int d = 0; d < hd; d++) y[t][head * hd + d] += p[u] / sum * qkv[u][2 * c + head * hd + d];
                    }
                }
            }
            add(h, linear(y, lw.attnProjWeight(), lw.attnProjBias(), c, c));
            double[][] m = linear(layerNorm(h, lw.ln2Weight(), lw.ln2Bias(), cfg.layerNormEpsilon()),
                    lw.fcWeight(), lw.fcBias(), c, cfg.innerDim());
            for (double[] row : m) {
                for (int i = 0; i < row.length; i++) {
                    double x = row[i];
                    row[i] = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
                }
            }
            add(h, linear(m, lw.fcProjWeight(), lw.fcProjBias(), cfg.innerDim(), c));
        }
        double[][] f = layerNorm(h, w.lnFWeight(), w.lnFBias(), cfg.layerNormEpsilon());
        double[][] logits = new double[n][cfg.vocabSize()];
        for (int t = 0; t < n; t++) {
            for (int v = 0; v < cfg.vocabSize(); v++) {
                for (int i = 0; i < c; i++) logits[t][v] += f[t][i] * at(w.lmHead(), v, i, c);
            }
        }
        return logits;
    }

    private static double at(Tensor t, int row, int col, int cols) {
        return t.get((long) row * cols + col);
    }

    private static double[][] layerNorm(double[][] x, Tensor gain, Tensor bias, double eps) {
        double[][] out = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            int c = x[t].length;
            double mean = 0, var = 0;
            for (double v : x[t]) mean += v / c;
            for (double v : x[t]) var += (v - mean) * (v - mean) / c;
            out[t] = new double[c];
            for (int i = 0; i < c; i++) out[t][i] = (x[t][i] - mean) / Math.sqrt(var + eps) * gain.get(i) + bias.get(i);
        }
        return out;
    }

    private static double[][] linear(double[][] x, Tensor weight, Tensor bias, int in, int out) {
        double[][] y = new double[x.length][out];
        for (int t = 0; t < x.length; t++) {
            for (int o = 0; o < out; o++) {
                double sum = bias.get(o);
                for (int i = 0; i < in; i++) sum += x[t][i] * at(weight, i, o, out);
                y[t][o] = sum;
            }
        }
        return y;
    }

    private static void add(double[][] acc, double[][] x) {
        for (int t = 0; t < acc.length; t++) {
            for (int i = 0; i < acc[t].length; i++) acc[t][i] += x[t][i];
        }
    }
}
