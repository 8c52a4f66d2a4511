package org.jgpt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Finding NaN and infinities in weight tensors of every dtype, and in float arrays. */
class TensorFiniteTest {

    @Test
    void theFirstNonFiniteElementIsFoundInEveryDtypeAndPosition() {
        Random random = new Random(1);
        int n = 3 * 37;
        for (DType dtype : new DType[] {DType.F32, DType.F16, DType.BF16}) { // I8 (Q8_0 quants) holds integers
            assertEquals(-1, TestTensors.weight(dtype, TestTensors.random(random, n), 3, 37).tensor().firstNonFinite(),
                    dtype + " finite");
            for (int at : new int[] {0, 1, 15, 16, 63, 64, n - 1}) {
                for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                    float[] values = TestTensors.random(random, n);
                    values[at] = bad;
                    if (at + 5 < n) values[at + 5] = Float.NaN; // only the first counts
                    Tensor t = TestTensors.weight(dtype, values, 3, 37).tensor();
                    assertEquals(at, t.firstNonFinite(), dtype + " " + bad + " at " + at);
                }
            }
        }
    }

    @Test
    void theLargestFiniteValuesAreFinite() {
        float[] values = {Float.MAX_VALUE, -Float.MAX_VALUE, 65504f, Float.MIN_VALUE, -0f};
        assertEquals(-1, TestTensors.weight(DType.F32, values, values.length).tensor().firstNonFinite());
        assertEquals(-1, TestTensors.weight(DType.F16, new float[] {65504f, -65504f, 0f}, 3).tensor().firstNonFinite());
    }

    @Test
    void aPositionIsGivenInTheTensorsShape() {
        Tensor t = Tensor.of("w", new float[24], 2, 3, 4);
        assertEquals("[1, 2, 3]", t.position(23));
        assertEquals("[1, 0, 1]", t.position(13));
    }

    @Test
    void floatArraysAreCheckedOverTheirRangeOnly() {
        float[] x = new float[100];
        assertTrue(Tensor.allFinite(x, 0, 100));
        x[99] = Float.NaN;
        assertFalse(Tensor.allFinite(x, 0, 100));
        assertTrue(Tensor.allFinite(x, 0, 99));
        x[3] = Float.NEGATIVE_INFINITY;
        assertFalse(Tensor.allFinite(x, 0, 10));
        assertTrue(Tensor.allFinite(x, 4, 99));
    }
}
