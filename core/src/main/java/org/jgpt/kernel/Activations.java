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
    static final float INV_SQRT_2 = (float) (1 / Math.sqrt(2));
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

    /*
     * The loops below run whole vectors and mask only the last, partial one: with a mask on every vector, GELU took
     * 4% of a 512-token prefill's profile samples, against 1.6% now.
     */

    private static void gelu(float[] out, float[] in, int from, int to) {
        int i = from;
        for (; i <= to - L; i += L) gelu(FloatVector.fromArray(F, in, i)).intoArray(out, i);
        if (i < to) {
            VectorMask<Float> valid = F.indexInRange(i, to);
            gelu(FloatVector.fromArray(F, in, i, valid)).intoArray(out, i, valid);
        }
    }

    private static FloatVector gelu(FloatVector x) {
        FloatVector u = x.mul(x).mul(x).mul(0.044715f).add(x).mul(SQRT_2_OVER_PI);
        return x.div(VectorMath.exp(u.mul(-2f)).add(1f));
    }

    /**
     * BERT's exact GELU ("gelu" in Hugging Face configs), {@code out[i] = in[i] Φ(in[i])} with Φ the normal CDF;
     * {@code out} may be {@code in}.
     */
    public static void geluErf(float[] out, float[] in, int n) {
        int tasks = (n + GELU_CHUNK - 1) / GELU_CHUNK;
        Parallel.forEach(tasks, t -> {
            int end = Math.min(n, (t + 1) * GELU_CHUNK);
            for (int i = t * GELU_CHUNK; i < end; i += L) {
                VectorMask<Float> valid = F.indexInRange(i, end);
                FloatVector x = FloatVector.fromArray(F, in, i, valid);
                FloatVector z = x.mul(INV_SQRT_2);
                x.mul(VectorMath.erf(z, VectorMath.exp(z.mul(z).neg())).add(1f)).mul(0.5f).intoArray(out, i, valid);
            }
        });
    }

    /** {@code acc[i] += x[i]} for the first {@code n} elements. */
    public static void add(float[] acc, float[] x, int n) {
        int i = 0;
        for (; i <= n - L; i += L) FloatVector.fromArray(F, acc, i).add(FloatVector.fromArray(F, x, i)).intoArray(acc, i);
        if (i < n) {
            VectorMask<Float> valid = F.indexInRange(i, n);
            FloatVector.fromArray(F, acc, i, valid).add(FloatVector.fromArray(F, x, i, valid)).intoArray(acc, i, valid);
        }
    }

    /** {@code acc[accOffset + i] += x[xOffset + i]} for i in [0, n). */
    public static void add(float[] acc, int accOffset, float[] x, int xOffset, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(F, acc, accOffset + i).add(FloatVector.fromArray(F, x, xOffset + i))
                    .intoArray(acc, accOffset + i);
        }
        for (; i < n; i++) acc[accOffset + i] += x[xOffset + i];
    }

    /** In-place softmax of {@code x[offset, offset + n)}, shifted by the maximum so that exp cannot overflow. */
    public static void softmax(float[] x, int offset, int n) {
        float inv = 1f / expShifted(x, offset, n, max(x, offset, n));
        int i = 0;
        for (; i <= n - L; i += L) FloatVector.fromArray(F, x, offset + i).mul(inv).intoArray(x, offset + i);
        if (i < n) {
            VectorMask<Float> valid = F.indexInRange(i, n);
            FloatVector.fromArray(F, x, offset + i, valid).mul(inv).intoArray(x, offset + i, valid);
        }
    }

    /** The largest of {@code x[offset, offset + n)}, {@code n > 0}. */
    static float max(float[] x, int offset, int n) {
        FloatVector maxes = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i <= n - L; i += L) maxes = maxes.max(FloatVector.fromArray(F, x, offset + i));
        if (i < n) {
            VectorMask<Float> valid = F.indexInRange(i, n);
            maxes = maxes.lanewise(VectorOperators.MAX, FloatVector.fromArray(F, x, offset + i, valid), valid);
        }
        return maxes.reduceLanes(VectorOperators.MAX);
    }

    /** Replaces {@code x[offset, offset + n)} by {@code exp(x - shift)}; returns their sum. */
    static float expShifted(float[] x, int offset, int n, float shift) {
        FloatVector sums = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, x, offset + i).sub(shift));
            e.intoArray(x, offset + i);
            sums = sums.add(e);
        }
        if (i < n) {
            VectorMask<Float> valid = F.indexInRange(i, n);
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, x, offset + i, valid).sub(shift));
            e.intoArray(x, offset + i, valid);
            sums = sums.add(e, valid);
        }
        return VectorMath.sum(sums);
    }
}
