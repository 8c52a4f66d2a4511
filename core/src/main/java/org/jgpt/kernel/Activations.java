package org.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Element-wise activations and vector arithmetic. */
public final class Activations {
    private static final VectorSpecies<Float> F = Lanes.FLOATS;
    private static final int L = Lanes.LENGTH;
    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    /** Elements per parallel GELU task; below two of them one thread does it all. */
    private static final int GELU_CHUNK = 1 << 14;

    private Activations() {}

    /**
     * GPT-2's tanh approximation of GELU ("gelu_new"), {@code out[i] = gelu(in[i])}; {@code out} may be {@code in}.
     * Computed as {@code x / (1 + exp(-2u))} with {@code u = sqrt(2/pi) (x + 0.044715 x^3)}, which equals
     * {@code 0.5 x (1 + tanh(u))} but has no cancellation for negative x.
     */
    public static void gelu(float[] out, float[] in, int n) {
        int tasks = (n + GELU_CHUNK - 1) / GELU_CHUNK;
        if (tasks <= 1) {
            gelu(out, in, 0, n);
        } else {
            Parallel.forEach(tasks, t -> gelu(out, in, t * GELU_CHUNK, Math.min(n, (t + 1) * GELU_CHUNK)));
        }
    }

    private static void gelu(float[] out, float[] in, int from, int to) {
        for (int i = from; i < to; i += L) {
            VectorMask<Float> valid = F.indexInRange(i, to);
            FloatVector x = FloatVector.fromArray(F, in, i, valid);
            FloatVector u = x.mul(x).mul(x).mul(0.044715f).add(x).mul(SQRT_2_OVER_PI);
            FloatVector e = VectorMath.exp(u.mul(-2f));
            x.div(e.add(1f)).intoArray(out, i, valid);
        }
    }

    /** {@code acc[i] += x[i]} for the first {@code n} elements. */
    public static void add(float[] acc, float[] x, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> valid = F.indexInRange(i, n);
            FloatVector.fromArray(F, acc, i, valid).add(FloatVector.fromArray(F, x, i, valid)).intoArray(acc, i, valid);
        }
    }

    /** In-place softmax of {@code x[offset, offset + n)}, shifted by the maximum so that exp cannot overflow. */
    public static void softmax(float[] x, int offset, int n) {
        float inv = 1f / expShifted(x, offset, n, max(x, offset, n));
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> valid = F.indexInRange(i, n);
            FloatVector.fromArray(F, x, offset + i, valid).mul(inv).intoArray(x, offset + i, valid);
        }
    }

    /** The largest of {@code x[offset, offset + n)}, {@code n > 0}. */
    static float max(float[] x, int offset, int n) {
        FloatVector maxes = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> valid = F.indexInRange(i, n);
            maxes = maxes.lanewise(VectorOperators.MAX, FloatVector.fromArray(F, x, offset + i, valid), valid);
        }
        return maxes.reduceLanes(VectorOperators.MAX);
    }

    /** Replaces {@code x[offset, offset + n)} by {@code exp(x - shift)}; returns their sum. */
    static float expShifted(float[] x, int offset, int n, float shift) {
        FloatVector sums = FloatVector.zero(F);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> valid = F.indexInRange(i, n);
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, x, offset + i, valid).sub(shift));
            e.intoArray(x, offset + i, valid);
            sums = sums.add(e, valid);
        }
        return VectorMath.sum(sums);
    }
}
