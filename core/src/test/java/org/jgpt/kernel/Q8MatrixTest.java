package org.jgpt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Q8_0: the quantization against llama.cpp's formula, and the decode (few rows) and prefill (GEMM) kernels against a
 * plain dequantize-then-multiply reference in double. Tolerance as in MatmulTest: 1e-5 of the sum of |products| of
 * each output, plus 1e-6 (the kernels accumulate in float).
 */
class Q8MatrixTest {
    /** Both sides of the matvec/GEMM switch (8 rows), and row counts that cut the GEMM's 6-row tiles. */
    private static final int[] ROWS = {1, 2, 5, 8, 9, 13, 32};
    /**
     * {in, out}: outputs below and not a multiple of four (the one-row pass), not a multiple of the GEMM's panel
     * width, split over several decode tasks ({160, 601}), and a depth over one GEMM pass of 768 ({800, 70}).
     */
    private static final int[][] IN_OUT = {{32, 1}, {32, 3}, {64, 5}, {96, 33}, {160, 601}, {256, 4}, {800, 70}};

    @Test
    void quantizesAsLlamaCpp() {
        Random random = new Random(3);
        int in = 96, out = 7;
        float[] values = TestTensors.random(random, in * out);
        values[5] = 0; // a zero, and a block of zeros (its scale 0)
        for (int i = 0; i < 32; i++) values[2 * in + 32 + i] = 0;
        Q8Matrix q = Q8Matrix.quantize(Tensor.of("w", values, out, in), true);
        for (int o = 0; o < out; o++) {
            for (int b = 0; b < in / 32; b++) {
                float max = 0;
                for (int t = 0; t < 32; t++) max = Math.max(max, Math.abs(values[o * in + b * 32 + t]));
                float d = max / 127;
                float scale = Float.float16ToFloat(Float.floatToFloat16(d));
                assertEquals(scale, q.scales().get(o * (in / 32) + b), "scale of row " + o + " block " + b);
                for (int t = 0; t < 32; t++) {
                    int i = b * 32 + t;
                    int expected = d == 0 ? 0 : Math.round(Math.abs(values[o * in + i]) * (1 / d)) * (values[o * in + i] < 0 ? -1 : 1);
                    assertEquals(expected, (int) q.quants().get(o * in + i), "quant (" + o + ", " + i + ")");
                    assertEquals(expected * scale, q.get(o, i), "weight (" + o + ", " + i + ")");
                    assertTrue(Math.abs(q.get(o, i) - values[o * in + i]) <= 0.51 * scale + 1e-3 * max,
                            "(" + o + ", " + i + ") off by more than half a step");
                }
            }
        }
    }

    @Test
    void conv1dAndLinearLayoutsQuantizeAlike() {
        Random random = new Random(4);
        int in = 64, out = 19;
        float[] linear = TestTensors.random(random, out * in);
        float[] conv1d = new float[in * out];
        for (int o = 0; o < out; o++) for (int i = 0; i < in; i++) conv1d[i * out + o] = linear[o * in + i];
        Q8Matrix a = Q8Matrix.quantize(Tensor.of("a", linear, out, in), true);
        Q8Matrix b = Q8Matrix.quantize(Tensor.of("b", conv1d, in, out), false);
        assertEquals(in, b.inDim());
        assertEquals(out, b.outDim());
        for (int o = 0; o < out; o++) for (int i = 0; i < in; i++) assertEquals(a.get(o, i), b.get(o, i));
    }

    @Test
    void forwardMatchesDequantizedReference() {
        Random random = new Random(5);
        for (int[] shape : IN_OUT) {
            int inDim = shape[0], outDim = shape[1];
            Q8Matrix q = Q8Matrix.quantize(Tensor.of("w", TestTensors.random(random, inDim * outDim), inDim, outDim), false);
            WeightMatrix matrix = WeightMatrix.of(q);
            for (int rows : ROWS) {
                float[] bias = rows % 2 == 0 ? null : TestTensors.random(random, outDim);
                float[] in = TestTensors.random(random, rows * inDim);
                float[] out = new float[rows * outDim];
                Matmul.forward(out, in, matrix, bias, rows);
                for (int r = 0; r < rows; r++) {
                    for (int o = 0; o < outDim; o++) {
                        double sum = bias == null ? 0 : bias[o], magnitude = Math.abs(sum);
                        for (int i = 0; i < inDim; i++) {
                            double p = (double) in[r * inDim + i] * q.get(o, i);
                            sum += p;
                            magnitude += Math.abs(p);
                        }
                        double error = Math.abs(out[r * outDim + o] - sum);
                        assertTrue(error <= 1e-5 * magnitude + 1e-6, rows + "x" + inDim + "x" + outDim + " at [" + r
                                + "," + o + "]: " + out[r * outDim + o] + " vs " + sum);
                    }
                }
            }
        }
    }

    @Test
    void embeddingDequantizesTheRow() {
        Random random = new Random(6);
        int vocab = 11, dim = 64, context = 5;
        Q8Matrix wte = Q8Matrix.quantize(Tensor.of("wte", TestTensors.random(random, vocab * dim), vocab, dim), true);
        float[] wpe = TestTensors.random(random, context * dim);
        int[] tokens = {3, 10, 0}, positions = {0, 4, 2};
        float[] out = new float[tokens.length * dim];
        Embedding.forward(out, tokens, positions, wte, Tensor.of("wpe", wpe, context, dim), tokens.length, dim);
        for (int t = 0; t < tokens.length; t++) {
            for (int d = 0; d < dim; d++) {
                assertEquals(wte.get(tokens[t], d) + wpe[positions[t] * dim + d], out[t * dim + d], 1e-6f);
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Embedding.forward(out,
                new int[] {vocab}, new int[] {0}, wte, Tensor.of("wpe", wpe, context, dim), 1, dim));
        assertTrue(e.getMessage().contains("token id 11"), e.getMessage());
    }

    @Test
    void refusesShapesAndValuesItCannotQuantize() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Q8Matrix.quantize(Tensor.of("h.0.mlp.c_fc.weight", new float[40 * 2], 40, 2), false));
        assertTrue(e.getMessage().contains("input dimension 40 is not a multiple of the block size 32"), e.getMessage());
        float[] values = new float[32];
        values[7] = Float.NaN;
        e = assertThrows(IllegalArgumentException.class, () -> Q8Matrix.quantize(Tensor.of("w", values, 1, 32), true));
        assertTrue(e.getMessage().contains("NaN or infinity"), e.getMessage());
    }
}
