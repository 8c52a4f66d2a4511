package org.jgpt.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** LayerNorm over the last dimension. */
public final class Norms {
    private static final VectorSpecies<Float> F = Lanes.FLOATS;
    private static final int L = Lanes.LENGTH;
    /** Below this many elements in all, threads cost more than they save. */
    private static final int PARALLEL_MIN_ELEMENTS = 1 << 15;

    private Norms() {}

    /**
     * {@code out[r] = (in[r] - mean) / sqrt(var + eps) * gamma + beta} for each of {@code rows} rows of {@code dim}.
     * As in PyTorch: float arithmetic, biased variance, eps inside the square root. Two passes (mean, then the
     * squared deviations from it) avoid the cancellation of the one-pass sum of squares.
     */
    public static void layerNorm(float[] out, float[] in, float[] gamma, float[] beta, int rows, int dim, float eps) {
        if ((long) rows * dim < PARALLEL_MIN_ELEMENTS) {
            for (int r = 0; r < rows; r++) layerNormRow(out, in, gamma, beta, r * dim, dim, eps);
        } else {
            Parallel.forEach(rows, r -> layerNormRow(out, in, gamma, beta, r * dim, dim, eps));
        }
    }

    private static void layerNormRow(float[] out, float[] in, float[] gamma, float[] beta, int base, int dim, float eps) {
        FloatVector sum = FloatVector.zero(F);
        for (int i = 0; i < dim; i += L) {
            sum = sum.add(FloatVector.fromArray(F, in, base + i, F.indexInRange(i, dim)));
        }
        float mean = VectorMath.sum(sum) / dim;
        FloatVector squares = FloatVector.zero(F);
        for (int i = 0; i < dim; i += L) {
            VectorMask<Float> valid = F.indexInRange(i, dim);
            FloatVector d = FloatVector.fromArray(F, in, base + i, valid).sub(mean);
            squares = squares.add(d.mul(d), valid);
        }
        float variance = VectorMath.sum(squares) / dim;
        float rstd = (float) (1.0 / Math.sqrt(variance + eps));
        for (int i = 0; i < dim; i += L) {
            VectorMask<Float> valid = F.indexInRange(i, dim);
            FloatVector x = FloatVector.fromArray(F, in, base + i, valid);
            FloatVector g = FloatVector.fromArray(F, gamma, i, valid);
            FloatVector b = FloatVector.fromArray(F, beta, i, valid);
            x.sub(mean).mul(rstd).fma(g, b).intoArray(out, base + i, valid);
        }
    }
}
