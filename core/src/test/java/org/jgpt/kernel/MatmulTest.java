package org.jgpt.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every matmul path (matrix-vector for few rows, packed GEMM for many) against a naive loop accumulating in
 * double, on shapes that are not multiples of the vector length, the register tile or the K block, in every dtype.
 * Tolerance: 1e-5 of the sum of |products| of each output (float accumulation over up to 600 terms), plus 1e-6.
 */
class MatmulTest {
    private static final int[] ROWS = {1, 2, 5, 8, 9, 13, 32, 33, 40}; // both sides of the streaming/GEMM switches (8; 32 for F32 panels)
    /**
     * Remainders of the vector width and of the four- and two-row passes; {40, 601}'s transposed product splits its
     * outputs over several tasks, as the LM head's do. At one row, weight rows of whole vectors take decoding's flat loops:
     * {96, 160} both ways; {50, 32} and {3, 16}, {129, 48} (two slices, the second with an odd weight row left over)
     * in the Conv1D form, {32, 50} with outputs left over for the one-row pass; {16, 33} transposed, with weight rows
     * of a single vector; {1000, 40} with a depth over one GEMM pass (768).
     */
    private static final int[][] IN_OUT = {{1, 1}, {17, 15}, {16, 33}, {300, 70}, {600, 129}, {40, 601}, {96, 160},
            {50, 32}, {32, 50}, {3, 16}, {129, 48}, {1000, 40}};

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void forwardMatchesNaiveLoop(DType dtype) {
        Random random = new Random(1);
        for (int[] shape : IN_OUT) {
            int inDim = shape[0], outDim = shape[1];
            TestTensors.Weight w = TestTensors.weight(dtype, TestTensors.random(random, inDim * outDim), inDim, outDim);
            float[] bias = TestTensors.random(random, outDim);
            for (int rows : ROWS) {
                float[] in = TestTensors.random(random, rows * inDim);
                float[] out = new float[rows * outDim];
                Matmul.forward(out, in, w.tensor(), bias, rows, inDim, outDim);
                for (int r = 0; r < rows; r++) {
                    for (int o = 0; o < outDim; o++) {
                        double sum = bias[o], magnitude = Math.abs(bias[o]);
                        for (int i = 0; i < inDim; i++) {
                            double p = (double) in[r * inDim + i] * w.values()[i * outDim + o];
                            sum += p;
                            magnitude += Math.abs(p);
                        }
                        assertClose(sum, magnitude, out[r * outDim + o], dtype + " forward " + rows + "x" + inDim
                                + "x" + outDim + " at [" + r + "," + o + "]");
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void forwardTransposedMatchesNaiveLoop(DType dtype) {
        Random random = new Random(2);
        for (int[] shape : IN_OUT) {
            int inDim = shape[0], outDim = shape[1];
            TestTensors.Weight w = TestTensors.weight(dtype, TestTensors.random(random, inDim * outDim), outDim, inDim);
            for (int rows : ROWS) {
                float[] in = TestTensors.random(random, rows * inDim);
                float[] out = new float[rows * outDim];
                Matmul.forwardTransposed(out, in, w.tensor(), rows, inDim, outDim);
                for (int r = 0; r < rows; r++) {
                    for (int o = 0; o < outDim; o++) {
                        double sum = 0, magnitude = 0;
                        for (int i = 0; i < inDim; i++) {
                            double p = (double) in[r * inDim + i] * w.values()[o * inDim + i];
                            sum += p;
                            magnitude += Math.abs(p);
                        }
                        assertClose(sum, magnitude, out[r * outDim + o], dtype + " forwardTransposed " + rows + "x"
                                + inDim + "x" + outDim + " at [" + r + "," + o + "]");
                    }
                }
            }
        }
    }

    /**
     * A {@link WeightMatrix} from either layout: F32 in panels (the streaming loop for few rows, including a last,
     * partial panel and an odd last weight row; the GEMM reading panels for many), half precision in place.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void weightMatrixMatchesNaiveLoop(DType dtype) {
        Random random = new Random(5);
        for (boolean transposed : new boolean[] {false, true}) {
            for (int[] shape : IN_OUT) {
                int inDim = shape[0], outDim = shape[1];
                float[] values = TestTensors.random(random, inDim * outDim);
                TestTensors.Weight w = transposed ? TestTensors.weight(dtype, values, outDim, inDim)
                        : TestTensors.weight(dtype, values, inDim, outDim);
                WeightMatrix matrix = transposed ? WeightMatrix.ofTransposed(w.tensor()) : WeightMatrix.of(w.tensor());
                assertEquals(inDim, matrix.inDim());
                assertEquals(outDim, matrix.outDim());
                float[] bias = TestTensors.random(random, outDim);
                for (int rows : ROWS) {
                    float[] in = TestTensors.random(random, rows * inDim);
                    float[] out = new float[rows * outDim];
                    Matmul.forward(out, in, matrix, bias, rows);
                    for (int r = 0; r < rows; r++) {
                        for (int o = 0; o < outDim; o++) {
                            double sum = bias[o], magnitude = Math.abs(bias[o]);
                            for (int i = 0; i < inDim; i++) {
                                float weight = w.values()[transposed ? o * inDim + i : i * outDim + o];
                                double p = (double) in[r * inDim + i] * weight;
                                sum += p;
                                magnitude += Math.abs(p);
                            }
                            assertClose(sum, magnitude, out[r * outDim + o], dtype + (transposed ? " transposed" : "")
                                    + " weight matrix " + rows + "x" + inDim + "x" + outDim
                                    + " at [" + r + "," + o + "]");
                        }
                    }
                }
            }
        }
    }

    /**
     * A row of an F32 {@link WeightMatrix} product is the same bits at any batch size and position in the batch:
     * alone (streamed), among up to 32 (streamed, four rows a pass and a remainder) or among 33 and 40 (the GEMM, in
     * whole and edge tiles, and past one K block at depth 1000). Continuous batching relies on it: a request decodes the same text alone or in a crowd.
     */
    @Test
    void aPackedRowIsTheSameBitsAloneOrInABatch() {
        Random random = new Random(5);
        for (int[] shape : IN_OUT) {
            int inDim = shape[0], outDim = shape[1];
            for (boolean transposed : new boolean[] {false, true}) {
                TestTensors.Weight w = TestTensors.weight(DType.F32, TestTensors.random(random, inDim * outDim),
                        transposed ? outDim : inDim, transposed ? inDim : outDim);
                WeightMatrix matrix = transposed ? WeightMatrix.ofTransposed(w.tensor()) : WeightMatrix.of(w.tensor());
                float[] bias = transposed ? null : TestTensors.random(random, outDim);
                for (int rows : ROWS) {
                    float[] in = TestTensors.random(random, rows * inDim);
                    float[] batch = new float[rows * outDim];
                    Matmul.forward(batch, in, matrix, bias, rows);
                    for (int r = 0; r < rows; r++) {
                        float[] row = new float[inDim];
                        System.arraycopy(in, r * inDim, row, 0, inDim);
                        float[] alone = new float[outDim];
                        Matmul.forward(alone, row, matrix, bias, 1);
                        for (int o = 0; o < outDim; o++) {
                            assertEquals(Float.floatToIntBits(alone[o]), Float.floatToIntBits(batch[r * outDim + o]),
                                    inDim + "x" + outDim + (transposed ? " transposed" : "") + ", row " + r + " of "
                                    + rows + ", column " + o);
                        }
                    }
                }
            }
        }
    }

    /** Decoding's runs of panels cover them all in order, each a threads-th of what is left (at least one). */
    @Test
    void shrinkingRunsCoverThePanelsInOrder() {
        assertArrayEquals(new int[] {0, 36, 54, 63, 67, 69, 70, 71, 72}, Matmul.shrinkingRuns(72, 2));
        assertArrayEquals(new int[] {0, 1}, Matmul.shrinkingRuns(1, 2));
        assertArrayEquals(new int[] {0, 3}, Matmul.shrinkingRuns(3, 1));
        assertArrayEquals(new int[] {0, 8, 13, 16, 18, 20, 21, 22, 23, 24}, Matmul.shrinkingRuns(24, 3));
        assertArrayEquals(new int[] {0}, Matmul.shrinkingRuns(0, 2));
    }

    @Test
    void backwardWeightAccumulatesTransposedProduct() {
        Random random = new Random(3);
        for (int rows : ROWS) {
            for (int[] shape : IN_OUT) {
                int inDim = shape[0], outDim = shape[1];
                float[] in = TestTensors.random(random, rows * inDim);
                float[] dOut = TestTensors.random(random, rows * outDim + 5); // longer than needed, as scratch may be
                float[] dWeight = TestTensors.random(random, inDim * outDim);
                float[] before = dWeight.clone();
                Matmul.backwardWeight(dWeight, in, dOut, rows, inDim, outDim);
                for (int i = 0; i < inDim; i++) {
                    for (int o = 0; o < outDim; o++) {
                        double sum = before[i * outDim + o], magnitude = Math.abs(sum);
                        for (int r = 0; r < rows; r++) {
                            double p = (double) in[r * inDim + i] * dOut[r * outDim + o];
                            sum += p;
                            magnitude += Math.abs(p);
                        }
                        assertClose(sum, magnitude, dWeight[i * outDim + o], "backwardWeight " + rows + "x" + inDim
                                + "x" + outDim + " at [" + i + "," + o + "]");
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void backwardInputMultipliesByTransposedWeight(DType dtype) {
        Random random = new Random(4);
        for (int[] shape : IN_OUT) {
            int inDim = shape[0], outDim = shape[1];
            TestTensors.Weight w = TestTensors.weight(dtype, TestTensors.random(random, inDim * outDim), inDim, outDim);
            for (int rows : ROWS) {
                float[] dOut = TestTensors.random(random, rows * outDim);
                float[] dIn = TestTensors.random(random, rows * inDim); // overwritten, not accumulated
                Matmul.backwardInput(dIn, dOut, w.tensor(), rows, inDim, outDim);
                for (int r = 0; r < rows; r++) {
                    for (int i = 0; i < inDim; i++) {
                        double sum = 0, magnitude = 0;
                        for (int o = 0; o < outDim; o++) {
                            double p = (double) dOut[r * outDim + o] * w.values()[i * outDim + o];
                            sum += p;
                            magnitude += Math.abs(p);
                        }
                        assertClose(sum, magnitude, dIn[r * inDim + i], dtype + " backwardInput " + rows + "x" + inDim
                                + "x" + outDim + " at [" + r + "," + i + "]");
                    }
                }
            }
        }
    }

    @Test
    void rejectsWeightOfWrongSize() {
        Tensor w = Tensor.of("h.0.mlp.c_fc.weight", new float[12], 3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Matmul.forward(new float[5], new float[3], w, null, 1, 3, 5));
        assertEquals(true, e.getMessage().contains("h.0.mlp.c_fc.weight"), e.getMessage());
    }

    private static void assertClose(double expected, double magnitude, float actual, String what) {
        assertEquals(expected, actual, 1e-5 * magnitude + 1e-6, what);
    }
}
