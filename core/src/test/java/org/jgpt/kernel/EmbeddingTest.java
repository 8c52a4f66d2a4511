package org.jgpt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Token plus position embeddings in every dtype: the float sum of the two stored (rounded) values, exactly. */
class EmbeddingTest {
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void sumsTokenAndPositionRows(DType dtype) {
        Random random = new Random(9);
        int vocab = 11, context = 6;
        for (int dim : new int[] {1, 15, 16, 37}) {
            TestTensors.Weight wte = TestTensors.weight(dtype, TestTensors.random(random, vocab * dim), vocab, dim);
            TestTensors.Weight wpe = TestTensors.weight(dtype, TestTensors.random(random, context * dim), context, dim);
            int[] tokens = {10, 0, 3, 3};
            int[] positions = {0, 5, 1, 2};
            float[] out = new float[tokens.length * dim];
            Embedding.forward(out, tokens, positions, wte.tensor(), wpe.tensor(), tokens.length, dim);
            for (int i = 0; i < tokens.length; i++) {
                for (int d = 0; d < dim; d++) {
                    float expected = wte.values()[tokens[i] * dim + d] + wpe.values()[positions[i] * dim + d];
                    assertEquals(expected, out[i * dim + d], 0f, dtype + " dim " + dim + " row " + i + " col " + d);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void rejectsTokenOutsideVocabulary(DType dtype) {
        TestTensors.Weight wte = TestTensors.weight(dtype, new float[4 * 8], 4, 8);
        TestTensors.Weight wpe = TestTensors.weight(dtype, new float[2 * 8], 2, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Embedding.forward(
                new float[8], new int[] {4}, new int[] {0}, wte.tensor(), wpe.tensor(), 1, 8));
        assertTrue(e.getMessage().contains("token id 4"), e.getMessage());
    }
}
