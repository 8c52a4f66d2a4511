package org.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Reductions and transcendental functions on float vectors built from IEEE-exact operations (add, multiply, fused multiply-add,
 * conversions) only. The Vector API's own {@code lanewise(EXP)} is computed one way before the JIT compiles a method
 * and another way after, so its results depend on compilation timing; these give the same bits every time, which
 * a seeded training run needs to repeat exactly.
 */
final class VectorMath {
    private static final VectorSpecies<Float> F = Lanes.FLOATS;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f; // 1.5 · 2^23: adding it rounds to an integer
    private static final float MAX = 88.3762626647949f;
    private static final float MIN = -87.3365447504f;

    private VectorMath() {}

    /** e^x, within 2 ulp of the exact value (Cephes expf: Cody-Waite reduction, degree-6 minimax polynomial). */
    static FloatVector exp(FloatVector x) {
        FloatVector clamped = x.max(MIN).min(MAX);
        FloatVector n = clamped.fma(LOG2E, ROUND).sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), clamped);
        r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(F, 1.9875691500e-4f);
        p = p.fma(r, FloatVector.broadcast(F, 1.3981999507e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(F, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(F, 5.0000001201e-1f));
        p = p.fma(r.mul(r), r).add(1f);
        IntVector exponent = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector scale = exponent.reinterpretAsFloats();
        return p.mul(scale).blend(0f, x.lt(MIN));
    }

    /**
     * Rotations by half, a quarter, ... of the lanes: {@code v.add(v.rearrange(HALVINGS[0]))} folds the upper half
     * of the lanes onto the lower one, and so on down to one lane.
     */
    private static final VectorShuffle<Float>[] HALVINGS = halvings();

    /**
     * The sum of the lanes as a fixed tree of lanewise adds (halving the lanes each step), then lane 0. Each add is
     * exact IEEE in the interpreter and in compiled code alike, so the bits never depend on JIT timing, unlike
     * {@code reduceLanes(ADD)}, which may add in any order and does so differently before and after compilation.
     * log2(lanes) shuffles and adds instead of one extract per lane: this runs once per LM-head output.
     */
    static float sum(FloatVector v) {
        for (VectorShuffle<Float> rotation : HALVINGS) v = v.add(v.rearrange(rotation));
        return v.lane(0);
    }

    private static final VectorMask<Float> UPPER_HALF = VectorMask.fromLong(F, -1L << (F.length() / 2));
    private static final VectorMask<Float> ODD_QUARTERS = VectorMask.fromLong(F, oddBlocks(F.length() / 4));
    private static final VectorShuffle<Float> SWAP_HALVES = VectorShuffle.fromOp(F, i -> i ^ (F.length() / 2));
    private static final VectorShuffle<Float> SWAP_QUARTERS = VectorShuffle.fromOp(F, i -> i ^ (F.length() / 4));
    /**
     * After sum4's folds each quarter of the lanes holds one vector's sum in its first lane, in the order a, c, b, d;
     * this brings those four lanes to lanes 0 to 3 as a, b, c, d.
     */
    private static final VectorShuffle<Float> FIRST_OF_BLOCKS = VectorShuffle.fromOp(F,
            i -> i < 4 ? new int[] {0, 2, 1, 3}[i] * (F.length() / 4) : i);

    /**
     * The sums of the lanes of four vectors, in lanes 0 to 3: {@link #sum} of each, bit for bit, in fewer steps.
     * The first two halvings fold two vectors at once (a blend brings a's lower half and b's upper half together),
     * so the four sums cost about half the shuffles of four calls to sum.
     */
    static FloatVector sum4(FloatVector a, FloatVector b, FloatVector c, FloatVector d) {
        FloatVector ab = a.blend(b, UPPER_HALF).add(b.blend(a, UPPER_HALF).rearrange(SWAP_HALVES));
        FloatVector cd = c.blend(d, UPPER_HALF).add(d.blend(c, UPPER_HALF).rearrange(SWAP_HALVES));
        FloatVector all = ab.blend(cd, ODD_QUARTERS).add(cd.blend(ab, ODD_QUARTERS).rearrange(SWAP_QUARTERS));
        for (int s = 2; s < HALVINGS.length; s++) all = all.add(all.rearrange(HALVINGS[s]));
        return all.rearrange(FIRST_OF_BLOCKS);
    }

    private static long oddBlocks(int width) {
        long mask = 0;
        for (int lane = 0; lane < F.length(); lane++) if ((lane / width) % 2 == 1) mask |= 1L << lane;
        return mask;
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] halvings() {
        int steps = Integer.numberOfTrailingZeros(F.length());
        VectorShuffle<Float>[] shuffles = new VectorShuffle[steps];
        for (int s = 0, half = F.length() / 2; s < steps; s++, half /= 2) {
            shuffles[s] = VectorShuffle.iota(F, half, 1, true);
        }
        return shuffles;
    }

    /** tanh(x) = 1 - 2 / (e^{2x} + 1), saturating to ±1. */
    static FloatVector tanh(FloatVector x) {
        return FloatVector.broadcast(F, 2f).div(exp(x.mul(2f)).add(1f)).neg().add(1f);
    }

    /**
     * erf(x) within 1.5e-7 (Abramowitz and Stegun 7.1.26): {@code 1 - poly(t) e^{-x²}} with {@code t = 1/(1 + p|x|)},
     * odd in x. Enough for BERT's exact GELU in float32, and it vectorises where a series would branch. The caller
     * passes {@code e^{-x²}}: GELU's backward needs the same exponential for its density.
     */
    static FloatVector erf(FloatVector x, FloatVector expNegSquare) {
        FloatVector a = x.abs();
        FloatVector t = FloatVector.broadcast(F, 1f).div(a.fma(0.3275911f, 1f));
        FloatVector poly = FloatVector.broadcast(F, 1.061405429f);
        poly = poly.fma(t, FloatVector.broadcast(F, -1.453152027f));
        poly = poly.fma(t, FloatVector.broadcast(F, 1.421413741f));
        poly = poly.fma(t, FloatVector.broadcast(F, -0.284496736f));
        poly = poly.fma(t, FloatVector.broadcast(F, 0.254829592f));
        FloatVector y = FloatVector.broadcast(F, 1f).sub(poly.mul(t).mul(expNegSquare));
        return y.blend(y.neg(), x.lt(0f));
    }
}
