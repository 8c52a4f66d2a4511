package org.jgpt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** VectorMath against java.lang.Math: exp within 2 ulp (relative 2.4e-7), tanh within 1e-6, lane sums in order, four at once as one at a time. */
class VectorMathTest {
    private static final int L = Lanes.LENGTH;

    @Test
    void expIsWithinTwoUlpOfMathExp() {
        SplittableRandom random = new SplittableRandom(3);
        float[] x = new float[L];
        float[] y = new float[L];
        for (int trial = 0; trial < 50_000; trial++) {
            for (int i = 0; i < L; i++) x[i] = (float) (random.nextDouble(-87, 88));
            VectorMath.exp(FloatVector.fromArray(Lanes.FLOATS, x, 0)).intoArray(y, 0);
            for (int i = 0; i < L; i++) {
                double exact = Math.exp(x[i]);
                assertTrue(Math.abs(y[i] - exact) <= 2 * Math.ulp((float) exact), "exp(" + x[i] + ") = " + y[i] + ", Math.exp " + exact);
            }
        }
    }

    @Test
    void expUnderflowsToZeroAndSaturatesWithoutInfinity() {
        float[] x = new float[L];
        float[] y = new float[L];
        x[0] = -1000f;
        x[1] = Float.NEGATIVE_INFINITY;
        x[2] = 0f;
        x[3] = 1000f;
        VectorMath.exp(FloatVector.fromArray(Lanes.FLOATS, x, 0)).intoArray(y, 0);
        assertEquals(0f, y[0]);
        assertEquals(0f, y[1]);
        assertEquals(1f, y[2]);
        assertTrue(Float.isFinite(y[3]) && y[3] > 1e38f, "saturates: " + y[3]);
    }

    @Test
    void tanhMatchesMathTanh() {
        float[] x = new float[L];
        float[] y = new float[L];
        SplittableRandom random = new SplittableRandom(4);
        for (int trial = 0; trial < 20_000; trial++) {
            for (int i = 0; i < L; i++) x[i] = (float) random.nextDouble(-20, 20) * (trial % 2 == 0 ? 1 : 0.01f);
            VectorMath.tanh(FloatVector.fromArray(Lanes.FLOATS, x, 0)).intoArray(y, 0);
            for (int i = 0; i < L; i++) assertEquals(Math.tanh(x[i]), y[i], 1e-6, "tanh(" + x[i] + ")");
        }
    }

    @Test
    void sumAddsLanesInAFixedTree() {
        float[] x = new float[L];
        SplittableRandom random = new SplittableRandom(5);
        for (int trial = 0; trial < 1000; trial++) {
            for (int i = 0; i < L; i++) x[i] = (float) random.nextDouble(-1e8, 1e8) * (i % 3 == 0 ? 1 : 1e-8f);
            // The same tree in scalars: fold the upper half of the lanes onto the lower one until one is left.
            float[] t = x.clone();
            for (int half = L / 2; half >= 1; half /= 2) {
                for (int i = 0; i < half; i++) t[i] += t[i + half];
            }
            assertEquals(t[0], VectorMath.sum(FloatVector.fromArray(Lanes.FLOATS, x, 0)));
        }
    }

    @Test
    void sum4GivesEachVectorsSumBitForBit() {
        float[] x = new float[4 * L];
        SplittableRandom random = new SplittableRandom(6);
        for (int trial = 0; trial < 1000; trial++) {
            // Magnitudes 16 orders apart, so that any other order of the adds gives other bits.
            for (int i = 0; i < x.length; i++) x[i] = (float) random.nextDouble(-1e8, 1e8) * (i % 3 == 0 ? 1 : 1e-8f);
            FloatVector[] v = new FloatVector[4];
            for (int k = 0; k < 4; k++) v[k] = FloatVector.fromArray(Lanes.FLOATS, x, k * L);
            FloatVector sums = VectorMath.sum4(v[0], v[1], v[2], v[3]);
            for (int k = 0; k < 4; k++) assertEquals(VectorMath.sum(v[k]), sums.lane(k), "vector " + k);
        }
    }
}
