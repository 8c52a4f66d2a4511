package org.jgpt.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * A weight matrix in llama.cpp's Q8_0 format: each row's inputs in blocks of {@value #BLOCK}, a block stored as
 * 32 int8 values {@code q} and one F16 scale {@code d}, its weights {@code d * q}. Quantizing takes
 * {@code d = max|x| / 127} and {@code q = round(x / d)} (halves away from zero, as llama.cpp's {@code roundf}).
 *
 * <p>Layout: {@code quants} is {@code [outDim][inDim]} int8, row-major (nn.Linear's orientation, whatever the
 * checkpoint's), so that an output's blocks lie one after another; {@code scales} is {@code [outDim][inDim / 32]}.
 * Decoding then streams each output row once, start to end, widening bytes to floats in registers; prefill
 * dequantizes into the GEMM's float panels while packing them. Files hold the scales in F16 (34 bytes per 32
 * weights); in memory they are widened to F32 (36 bytes, 1.13 bytes a weight: still under a third of F32's traffic),
 * because decoding is bound by its instructions rather than by memory, and an F32 scale broadcasts straight from
 * memory where an F16 one is loaded, converted and then broadcast: 15% more weights a second on one thread
 * (bench/README.md, "Q8_0 decoding").
 *
 * <p>{@code inDim} must be a multiple of 32 (GPT-2's widths all are); other shapes are refused.
 */
public final class Q8Matrix {
    /** Weights per block, each block with its own scale. */
    public static final int BLOCK = 32;
    private static final VectorSpecies<Float> F = Lanes.FLOATS;
    private static final int L = Lanes.LENGTH;
    /** Bytes that widen to one float vector (at least 8: no narrower byte vector exists; then one load feeds two). */
    private static final VectorSpecies<Byte> BYTES =
            VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * Byte.SIZE)));
    private static final int PARTS = BYTES.length() / L;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    /** Output rows a decoding task claims at a time, read as four streams (see {@link #dotRows4}). */
    private static final int GROUP = 4;

    private final String name;
    private final int outDim;
    private final int inDim;
    private final MemorySegment quants;
    private final MemorySegment scales;

    private Q8Matrix(String name, int outDim, int inDim, MemorySegment quants, MemorySegment scales) {
        this.name = name;
        this.outDim = outDim;
        this.inDim = inDim;
        this.quants = quants;
        this.scales = scales;
    }

    /**
     * Quantizes a weight: {@code [inDim, outDim]} (GPT-2's Conv1D) or with {@code transposed} {@code [outDim, inDim]}
     * (nn.Linear, the token embedding). A memory-mapped source is unloaded once read.
     */
    public static Q8Matrix quantize(Tensor weight, boolean transposed) {
        if (weight.rank() != 2) throw new IllegalArgumentException("tensor " + weight + " is not a matrix");
        int inDim = weight.dim(transposed ? 1 : 0), outDim = weight.dim(transposed ? 0 : 1);
        requireBlocks(weight.name(), inDim);
        MemorySegment quants = HugePages.allocate((long) outDim * inDim, Arena.ofAuto());
        MemorySegment scales = Arena.ofAuto().allocate((long) outDim * (inDim / BLOCK) * Float.BYTES, 64);
        int rowsPerTask = 16; // a Conv1D source is read down its columns: 16 of them share each cache line read
        Parallel.forEach((outDim + rowsPerTask - 1) / rowsPerTask, task -> {
            int o0 = task * rowsPerTask, o1 = Math.min(outDim, o0 + rowsPerTask);
            float[] rows = new float[(o1 - o0) * inDim];
            for (int o = o0; o < o1; o++) {
                for (int i = 0; i < inDim; i++) {
                    long at = transposed ? (long) o * inDim + i : (long) i * outDim + o;
                    rows[(o - o0) * inDim + i] = weight.get(at);
                }
            }
            for (int o = o0; o < o1; o++) quantizeRow(weight.name(), rows, (o - o0) * inDim, inDim, quants, scales, o);
        });
        if (weight.data().isMapped()) weight.data().unload();
        return new Q8Matrix(weight.name(), outDim, inDim, quants, scales);
    }

    private static void quantizeRow(String name, float[] row, int offset, int inDim, MemorySegment quants,
                                    MemorySegment scales, int o) {
        for (int b = 0; b < inDim / BLOCK; b++) {
            int start = offset + b * BLOCK;
            float max = 0;
            for (int t = 0; t < BLOCK; t++) max = Math.max(max, Math.abs(row[start + t]));
            if (!Float.isFinite(max)) {
                throw new IllegalArgumentException("tensor " + name + " holds a NaN or infinity (output " + o
                        + ", inputs " + b * BLOCK + ".." + (b * BLOCK + BLOCK - 1) + "): it cannot be quantized");
            }
            float d = max / 127;
            float inverse = d == 0 ? 0 : 1 / d;
            scales.setAtIndex(F32, (long) o * (inDim / BLOCK) + b, Float.float16ToFloat(Float.floatToFloat16(d)));
            for (int t = 0; t < BLOCK; t++) {
                double v = row[start + t] * inverse;
                quants.set(ValueLayout.JAVA_BYTE, (long) o * inDim + b * BLOCK + t, (byte) (v + Math.copySign(0.5, v)));
            }
        }
    }

    /**
     * A matrix from stored quants, {@code [outDim, inDim]} int8, and scales, {@code [outDim, inDim / 32]} F16, as
     * {@link #quants()} and {@link #scales()} give them.
     */
    public static Q8Matrix of(String name, Tensor quants, Tensor scales) {
        if (quants.dtype() != DType.I8 || quants.rank() != 2) {
            throw new IllegalArgumentException("Q8_0 quants " + quants + " must be an I8 matrix");
        }
        int outDim = quants.dim(0), inDim = quants.dim(1);
        requireBlocks(name, inDim);
        if (scales.dtype() != DType.F16 || scales.rank() != 2 || scales.dim(0) != outDim || scales.dim(1) != inDim / BLOCK) {
            throw new IllegalArgumentException("Q8_0 scales " + scales + " of " + name + " must be F16 [" + outDim + ", "
                    + inDim / BLOCK + "] for quants " + quants);
        }
        MemorySegment widened = Arena.ofAuto().allocate(scales.size() * Float.BYTES, 64);
        for (long b = 0; b < scales.size(); b++) widened.setAtIndex(F32, b, scales.get(b));
        return new Q8Matrix(name, outDim, inDim, quants.data(), widened);
    }

    private static void requireBlocks(String name, int inDim) {
        if (inDim % BLOCK != 0) {
            throw new IllegalArgumentException("cannot quantize " + name + " to Q8_0: its input dimension " + inDim
                    + " is not a multiple of the block size " + BLOCK);
        }
    }

    public String name() {
        return name;
    }

    public int outDim() {
        return outDim;
    }

    public int inDim() {
        return inDim;
    }

    /** The quants as an I8 tensor {@code [outDim, inDim]}, a view. */
    public Tensor quants() {
        return new Tensor(name + ".q8_0", DType.I8, new long[] {outDim, inDim}, quants);
    }

    /** The scales as an F16 tensor {@code [outDim, inDim / 32]}, as files store them (a copy; the widening was exact). */
    public Tensor scales() {
        long count = scales.byteSize() / Float.BYTES;
        MemorySegment f16 = Arena.ofAuto().allocate(count * Short.BYTES, 64);
        for (long b = 0; b < count; b++) f16.setAtIndex(F16, b, Float.floatToFloat16(scale(scales, b)));
        return new Tensor(name + ".q8_0_scales", DType.F16, new long[] {outDim, inDim / BLOCK}, f16);
    }

    /** Bytes of quants and scales in memory, as decoding streams them. */
    public long byteSize() {
        return quants.byteSize() + scales.byteSize();
    }

    /** Weight {@code (o, i)}, dequantized. */
    public float get(int o, int i) {
        return quants.get(ValueLayout.JAVA_BYTE, (long) o * inDim + i) * scale(scales, (long) o * (inDim / BLOCK) + i / BLOCK);
    }

    private static float scale(MemorySegment scales, long block) {
        return scales.getAtIndex(F32, block);
    }

    /** {@code out[offset + i] = weight(o, i)} for the whole row {@code o}: the token embedding's lookup. */
    public void dequantizeRow(int o, float[] out, int offset) {
        MemorySegment q = quants.asSlice((long) o * inDim, inDim);
        for (int i = 0; i < inDim; i += BYTES.length()) {
            float d = scale(scales, (long) o * (inDim / BLOCK) + i / BLOCK);
            ByteVector bytes = ByteVector.fromMemorySegment(BYTES, q, i, LE);
            for (int part = 0; part < PARTS; part++) {
                widen(bytes, part).mul(d).intoArray(out, offset + i + part * L);
            }
        }
    }

    private static FloatVector widen(ByteVector bytes, int part) {
        return (FloatVector) bytes.convertShape(VectorOperators.B2F, F, part);
    }

    /**
     * {@code out[r, o] = sum_i in[r, i] * weight(o, i) + bias[o]} for few rows (decoding): the threads claim runs of
     * output rows and stream their quants once; each row of {@code in} meets a group of weight rows while they are in
     * L1. {@code bias} may be null.
     */
    void matvec(float[] out, float[] in, float[] bias, int rows) {
        MemorySegment x = OffHeapScratch.INPUT.get().copyOf(in, rows * inDim);
        int groups = outDim / GROUP;
        int[] starts = Matmul.shrinkingRuns(groups, Parallel.threads());
        boolean wide = rows == 1 && BLOCK == 2 * L;
        Parallel.forEach(starts.length - 1, task -> {
            if (wide) dotRows4Wide(out, x, starts[task] * GROUP, starts[task + 1] * GROUP);
            else dotRows4(out, x, rows, starts[task] * GROUP, starts[task + 1] * GROUP);
        });
        for (int o = groups * GROUP; o < outDim; o++) dotRow(out, x, rows, o);
        if (bias != null) {
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < outDim; o++) out[r * outDim + o] += bias[o];
            }
        }
    }

    /**
     * Outputs {@code o0 <= o < o1} (a multiple of four of them) in four streams, each a contiguous quarter of the
     * rows, as Matmul's streaming loops do: a pass computes outputs {@code o, o + q, o + 2q, o + 3q}. A block's 32
     * products are summed unscaled, then scaled into the row's sum, one multiply-add per block.
     */
    private void dotRows4(float[] out, MemorySegment x, int rows, int o0, int o1) {
        int q = (o1 - o0) / GROUP, blocks = inDim / BLOCK;
        for (int o = o0; o < o0 + q; o++) {
            MemorySegment w0 = row(o), w1 = row(o + q), w2 = row(o + 2 * q), w3 = row(o + 3 * q);
            MemorySegment d0 = scaleRow(o), d1 = scaleRow(o + q), d2 = scaleRow(o + 2 * q), d3 = scaleRow(o + 3 * q);
            for (int r = 0; r < rows; r++) {
                long xr = (long) r * inDim * Float.BYTES;
                FloatVector zero = FloatVector.zero(F), a0 = zero, a1 = zero, a2 = zero, a3 = zero;
                for (int b = 0; b < blocks; b++) {
                    FloatVector s0 = zero, s1 = zero, s2 = zero, s3 = zero;
                    for (int i = b * BLOCK; i < (b + 1) * BLOCK; i += BYTES.length()) {
                        ByteVector q0 = ByteVector.fromMemorySegment(BYTES, w0, i, LE);
                        ByteVector q1 = ByteVector.fromMemorySegment(BYTES, w1, i, LE);
                        ByteVector q2 = ByteVector.fromMemorySegment(BYTES, w2, i, LE);
                        ByteVector q3 = ByteVector.fromMemorySegment(BYTES, w3, i, LE);
                        for (int part = 0; part < PARTS; part++) {
                            FloatVector v = FloatVector.fromMemorySegment(F, x, xr + (long) (i + part * L) * Float.BYTES, LE);
                            s0 = widen(q0, part).fma(v, s0);
                            s1 = widen(q1, part).fma(v, s1);
                            s2 = widen(q2, part).fma(v, s2);
                            s3 = widen(q3, part).fma(v, s3);
                        }
                    }
                    a0 = s0.fma(FloatVector.broadcast(F, scale(d0, b)), a0);
                    a1 = s1.fma(FloatVector.broadcast(F, scale(d1, b)), a1);
                    a2 = s2.fma(FloatVector.broadcast(F, scale(d2, b)), a2);
                    a3 = s3.fma(FloatVector.broadcast(F, scale(d3, b)), a3);
                }
                FloatVector sums = VectorMath.sum4(a0, a1, a2, a3);
                int at = r * outDim + o;
                out[at] = sums.lane(0);
                out[at + q] = sums.lane(1);
                out[at + 2 * q] = sums.lane(2);
                out[at + 3 * q] = sums.lane(3);
            }
        }
    }

    /**
     * {@link #dotRows4} for one row of x with 16-float vectors (AVX-512), a block two of them, written out in one
     * method. Measured on GPT-2's LM head (one thread, CPU time, billions of weights a second): 23 against 16 for the
     * loop of {@link #dotRows4}, with its inner loops and x reloaded per weight row, and 18 with this loop a method of
     * its own called per group (or with {@code row}, {@code scaleRow} and {@link VectorMath#sum4} as calls, which C2's
     * node budget leaves uninlined, a tenth of the speed).
     */
    private void dotRows4Wide(float[] out, MemorySegment x, int o0, int o1) {
        int q = (o1 - o0) / GROUP, blocks = inDim / BLOCK;
        long scaleBytes = (long) blocks * Float.BYTES;
        for (int o = o0; o < o0 + q; o++) {
            MemorySegment w0 = quants.asSlice((long) o * inDim, inDim), w1 = quants.asSlice((long) (o + q) * inDim, inDim);
            MemorySegment w2 = quants.asSlice((long) (o + 2 * q) * inDim, inDim);
            MemorySegment w3 = quants.asSlice((long) (o + 3 * q) * inDim, inDim);
            MemorySegment d0 = scales.asSlice(o * scaleBytes, scaleBytes), d1 = scales.asSlice((o + q) * scaleBytes, scaleBytes);
            MemorySegment d2 = scales.asSlice((o + 2 * q) * scaleBytes, scaleBytes);
            MemorySegment d3 = scales.asSlice((o + 3 * q) * scaleBytes, scaleBytes);
            FloatVector zero = FloatVector.zero(F), a0 = zero, a1 = zero, a2 = zero, a3 = zero;
            for (int b = 0; b < blocks; b++) {
                long i = (long) b * BLOCK;
                FloatVector x0 = FloatVector.fromMemorySegment(F, x, i * Float.BYTES, LE);
                FloatVector x1 = FloatVector.fromMemorySegment(F, x, (i + L) * Float.BYTES, LE);
                a0 = widen(w0, i).fma(x0, widen(w0, i + L).mul(x1))
                        .fma(FloatVector.broadcast(F, d0.getAtIndex(F32, b)), a0);
                a1 = widen(w1, i).fma(x0, widen(w1, i + L).mul(x1))
                        .fma(FloatVector.broadcast(F, d1.getAtIndex(F32, b)), a1);
                a2 = widen(w2, i).fma(x0, widen(w2, i + L).mul(x1))
                        .fma(FloatVector.broadcast(F, d2.getAtIndex(F32, b)), a2);
                a3 = widen(w3, i).fma(x0, widen(w3, i + L).mul(x1))
                        .fma(FloatVector.broadcast(F, d3.getAtIndex(F32, b)), a3);
            }
            out[o] = a0.reduceLanes(VectorOperators.ADD);
            out[o + q] = a1.reduceLanes(VectorOperators.ADD);
            out[o + 2 * q] = a2.reduceLanes(VectorOperators.ADD);
            out[o + 3 * q] = a3.reduceLanes(VectorOperators.ADD);
        }
    }

    /** {@code L} quants of a row from index {@code i}, widened to float (one byte vector makes one float vector). */
    private static FloatVector widen(MemorySegment row, long i) {
        return (FloatVector) ByteVector.fromMemorySegment(BYTES, row, i, LE).convertShape(VectorOperators.B2F, F, 0);
    }

    /** One output row, for the few that do not fill a group of four. */
    private void dotRow(float[] out, MemorySegment x, int rows, int o) {
        MemorySegment w = row(o), d = scaleRow(o);
        for (int r = 0; r < rows; r++) {
            long xr = (long) r * inDim * Float.BYTES;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < inDim / BLOCK; b++) {
                FloatVector s = FloatVector.zero(F);
                for (int i = b * BLOCK; i < (b + 1) * BLOCK; i += BYTES.length()) {
                    ByteVector bytes = ByteVector.fromMemorySegment(BYTES, w, i, LE);
                    for (int part = 0; part < PARTS; part++) {
                        s = widen(bytes, part).fma(FloatVector.fromMemorySegment(F, x, xr + (long) (i + part * L) * Float.BYTES, LE), s);
                    }
                }
                acc = s.fma(FloatVector.broadcast(F, scale(d, b)), acc);
            }
            out[r * outDim + o] = VectorMath.sum(acc);
        }
    }

    /** Output row {@code o}'s quants as their own segment, so that the loops' bounds checks hoist (see {@link Lanes}). */
    private MemorySegment row(int o) {
        return quants.asSlice((long) o * inDim, inDim);
    }

    private MemorySegment scaleRow(int o) {
        long bytes = (long) (inDim / BLOCK) * Float.BYTES;
        return scales.asSlice(o * bytes, bytes);
    }

    /**
     * Fills the GEMM's packed panels {@code p0 .. p1-1} with rows {@code k0 .. k0+kc} of B ({@code B[k, n] = weight(n,
     * k)}): {@code packed[(p - p0) * kcStride * nb + kk * nb + j]}, dequantized, zero-padded past {@code outDim}. A
     * block of 32 inputs at a time, the panel's output rows are dequantized along their inputs into scratch (vector
     * loads and stores), then transposed into the panel a row of {@code nb} at a time (contiguous stores): writing
     * each dequantized value straight down its panel column cost 1.5 ns a weight, this 0.6 (one thread, CPU time, a
     * 768 × 2304 matrix).
     */
    void packPanels(float[] packed, int k0, int kc, int p0, int p1, int kcStride, int nb) {
        float[] block = new float[nb * BLOCK];
        for (int p = p0; p < p1; p++) {
            int at = (p - p0) * kcStride * nb;
            int rows = Math.min(nb, outDim - p * nb);
            if (rows < nb) Arrays.fill(block, 0f);
            for (int kk = 0; kk < kc; kk += BLOCK) {
                int b = (k0 + kk) / BLOCK;
                for (int j = 0; j < rows; j++) {
                    int o = p * nb + j;
                    float scale = scale(scales, (long) o * (inDim / BLOCK) + b);
                    long base = (long) o * inDim + k0 + kk;
                    for (int i = 0; i < BLOCK; i += BYTES.length()) {
                        ByteVector bytes = ByteVector.fromMemorySegment(BYTES, quants, base + i, LE);
                        for (int part = 0; part < PARTS; part++) {
                            widen(bytes, part).mul(scale).intoArray(block, j * BLOCK + i + part * L);
                        }
                    }
                }
                for (int t = 0; t < BLOCK; t++) {
                    int row = at + (kk + t) * nb;
                    for (int j = 0; j < nb; j++) packed[row + j] = block[j * BLOCK + t];
                }
            }
        }
    }

    @Override
    public String toString() {
        return name + " [" + inDim + " -> " + outDim + "] Q8_0";
    }
}
