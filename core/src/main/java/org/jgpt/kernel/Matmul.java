package org.jgpt.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix multiplies against weight tensors (F32, F16 or BF16), with float activations.
 * Row-major everywhere; {@code rows} is the number of token positions.
 *
 * <p>Many rows (prefill, training) go through one GEMM core: the right operand is packed per thread into
 * {@code KC × NB} panels (widened to float on the way), and a register-tiled microkernel accumulates an
 * {@value #MR} × two-vector tile of the result while broadcasting the left operand from its rows in place (a
 * transposed left operand is transposed first). Threads split the output columns into panels. A few rows
 * (decoding) are a matrix-vector product bound by memory bandwidth: the weights are streamed once, split over the
 * threads. A model's F32 {@link WeightMatrix} is already in the GEMM's panel layout, which both paths read in order.
 */
public final class Matmul {
    private static final VectorSpecies<Float> F = Lanes.FLOATS;
    private static final int L = Lanes.LENGTH;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    /** Rows of the register tile; with two vectors of columns that is 12 accumulators. */
    private static final int MR = 6;
    /** Columns of the register tile and of a packed panel: a {@link WeightMatrix}'s panels are the GEMM's. */
    private static final int NB = WeightMatrix.PANEL;
    /**
     * Depth of a packed panel: the task's KC × NB panels (384 KiB) stay in L2 while every row strip streams past them.
     * 768 covers GPT-2's whole width in one pass, so each tile of c is loaded and stored once rather than three
     * times; GEMMs of GPT-2 shapes ran up to a quarter (typically a tenth) faster than with 256.
     */
    private static final int KC = 768;
    /**
     * Up to this many rows the weights are streamed once rather than packed: decoding, and short prompts, where
     * packing B costs more than the few row strips it serves.
     */
    private static final int MATVEC_MAX_ROWS = 8;
    /**
     * The same for F32 weights in panels, whose loop takes four rows per pass over each pair of panels while they are
     * in L2: a continuous batch of up to 32 sequences decoded 15–60% more tokens a second than through the GEMM,
     * whose packing copies every weight per call, and short prompts prefilled no slower (bench/README.md, "Serving").
     */
    private static final int PANEL_STREAM_MAX_ROWS = 32;

    /**
     * Panels one task packs and then sweeps with each row strip: the strip is loaded once for all of them, which
     * cuts the traffic of re-reading A (from L3 or memory, for large K) by this factor.
     */
    private static final int PANELS_PER_TASK = 4;

    private static final ThreadLocal<float[]> PANELS = ThreadLocal.withInitial(() -> new float[PANELS_PER_TASK * KC * NB]);
    /** A transposed left operand ({@link #transpose}), the calling thread's, reused across calls. */
    private static final ThreadLocal<float[]> TRANSPOSED = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> EDGE_TILE = ThreadLocal.withInitial(() -> new float[MR * NB]);
    private static final ThreadLocal<float[]> EDGE_STRIP = ThreadLocal.withInitial(() -> new float[MR * KC]);
    /** Weight rows up to this many elements take the flat decode loop in the Conv1D form (see the streaming loops). */
    private static final int FLAT_ROW_MAX = 1024;
    /** The one-row Conv1D loop's partial sums, each slice's a page after the last (see the streaming loops). */
    private static final ThreadLocal<float[]> ROW_SUMS = ThreadLocal.withInitial(() -> new float[0]);

    private Matmul() {}

    /**
     * {@code out[r, o] = sum_i in[r, i] * weight[i, o] + bias[o]}, with {@code weight} of shape
     * {@code [inDim, outDim]} (the layout of GPT-2's Conv1D). {@code bias} may be null.
     */
    public static void forward(float[] out, float[] in, Tensor weight, float[] bias, int rows, int inDim, int outDim) {
        requireElements(weight, inDim, outDim);
        if (rows <= MATVEC_MAX_ROWS) {
            streamRows(out, in, weight, bias, rows, inDim, outDim);
            return;
        }
        startFromBias(out, bias, rows, outDim);
        gemm(out, in, false, tensorPanels(weight, false, inDim, outDim), rows, inDim, outDim);
    }

    /**
     * {@code out[r, o] = sum_i in[r, i] * weight(i, o) + bias[o]} for a model's weight matrix; {@code bias} may be
     * null. Panels (F32) stream per thread for few rows and feed the GEMM as they lie; other weights take the
     * tensor's own path.
     */
    public static void forward(float[] out, float[] in, WeightMatrix weight, float[] bias, int rows) {
        int inDim = weight.inDim(), outDim = weight.outDim();
        Q8Matrix q8 = weight.quantized();
        if (q8 != null) {
            if (rows <= MATVEC_MAX_ROWS) {
                q8.matvec(out, in, bias, rows);
                return;
            }
            startFromBias(out, bias, rows, outDim);
            gemm(out, in, false, (packed, k0, kc, p0, p1) -> q8.packPanels(packed, k0, kc, p0, p1, KC, NB), rows, inDim, outDim);
            return;
        }
        if (!weight.packed()) {
            if (!weight.transposed()) {
                forward(out, in, weight.tensor(), bias, rows, inDim, outDim);
                return;
            }
            forwardTransposed(out, in, weight.tensor(), rows, inDim, outDim);
            if (bias != null) {
                for (int r = 0; r < rows; r++) {
                    for (int o = 0; o < outDim; o++) out[r * outDim + o] += bias[o];
                }
            }
            return;
        }
        if (rows <= PANEL_STREAM_MAX_ROWS) {
            streamPanels(out, in, weight, bias, rows);
            return;
        }
        startFromBias(out, bias, rows, outDim);
        long panelFloats = (long) inDim * NB;
        gemm(out, in, false, (packed, k0, kc, p0, p1) -> { // a panel's rows k0 .. k0+kc lie as the GEMM packs them
            for (int p = p0; p < p1; p++) {
                MemorySegment.copy(weight.panels(), F32, (p * panelFloats + (long) k0 * NB) * Float.BYTES, packed,
                        (p - p0) * KC * NB, kc * NB);
            }
        }, rows, inDim, outDim);
    }

    /** Sets each of the {@code rows} rows of {@code out} to {@code bias}, or to zero if it is null. */
    private static void startFromBias(float[] out, float[] bias, int rows, int outDim) {
        for (int r = 0; r < rows; r++) {
            if (bias == null) Arrays.fill(out, r * outDim, (r + 1) * outDim, 0f);
            else System.arraycopy(bias, 0, out, r * outDim, outDim);
        }
    }

    /**
     * {@code out[r, o] = sum_i in[r, i] * weight[o, i]}, with {@code weight} of shape {@code [outDim, inDim]}
     * (the layout of nn.Linear and of the tied LM head, the token embedding). Its input gradient is
     * {@code forward(dIn, dOut, weight, null, rows, outDim, inDim)}.
     */
    public static void forwardTransposed(float[] out, float[] in, Tensor weight, int rows, int inDim, int outDim) {
        requireElements(weight, outDim, inDim);
        if (rows <= MATVEC_MAX_ROWS) {
            dotRows(out, in, weight, rows, inDim, outDim);
            return;
        }
        Arrays.fill(out, 0, rows * outDim, 0f);
        gemm(out, in, false, tensorPanels(weight, true, inDim, outDim), rows, inDim, outDim);
    }

    /**
     * The weight gradient of {@link #forward}: {@code dWeight[i, o] += sum_r in[r, i] * dOut[r, o]}, with
     * {@code dWeight} of shape {@code [inDim, outDim]}. With the roles of in and dOut swapped it is also the
     * gradient of the tied LM head in {@link #forwardTransposed}.
     */
    public static void backwardWeight(float[] dWeight, float[] in, float[] dOut, int rows, int inDim, int outDim) {
        gemm(dWeight, in, true, arrayPanels(dOut, outDim), inDim, rows, outDim);
    }

    /**
     * The input gradient of {@link #forward}: {@code dIn[r, i] = sum_o dOut[r, o] * weight[i, o]}, with
     * {@code weight} of shape {@code [inDim, outDim]}.
     */
    public static void backwardInput(float[] dIn, float[] dOut, Tensor weight, int rows, int inDim, int outDim) {
        requireElements(weight, inDim, outDim);
        Arrays.fill(dIn, 0, rows * inDim, 0f);
        gemm(dIn, dOut, false, tensorPanels(weight, true, outDim, inDim), rows, outDim, inDim);
    }

    private static void requireElements(Tensor weight, int dim0, int dim1) {
        if (weight.size() != (long) dim0 * dim1) {
            throw new IllegalArgumentException("weight " + weight + " has " + weight.size() + " elements, expected "
                    + dim0 + " x " + dim1);
        }
    }

    /** Fills the GEMM's packed panels {@code p0 .. p1-1} of B with rows {@code k0 .. k0+kc} (see {@link #packB}). */
    private interface PanelPacker {
        void pack(float[] packed, int k0, int kc, int p0, int p1);
    }

    /** B as the row-major float array {@code b}, {@code [k, n]}: its rows copied into the panels as they lie. */
    private static PanelPacker arrayPanels(float[] b, int n) {
        return (packed, k0, kc, p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int n0 = p * NB, nb = Math.min(NB, n - n0), at = (p - p0) * KC * NB;
                for (int kk = 0; kk < kc; kk++) {
                    System.arraycopy(b, (k0 + kk) * n + n0, packed, at + kk * NB, nb);
                    if (nb < NB) Arrays.fill(packed, at + kk * NB + nb, at + (kk + 1) * NB, 0f);
                }
            }
        };
    }

    /** B as the tensor {@code b}, {@code [k, n]}, or with {@code transposed} the {@code [n, k]} tensor. */
    private static PanelPacker tensorPanels(Tensor b, boolean transposed, int k, int n) {
        return (packed, k0, kc, p0, p1) -> packB(packed, b, transposed, k0, kc, p0, p1, k, n);
    }

    /**
     * {@code c[m, n] += A[m, k] * B[k, n]}. A is {@code a} row-major, or with {@code aTransposed} the row-major
     * {@code [k, m]} array. {@code b} packs B's panels.
     */
    private static void gemm(float[] c, float[] a, boolean aTransposed, PanelPacker b, int m, int k, int n) {
        if (m == 0 || n == 0 || k == 0) return;
        float[] rows = aTransposed ? transpose(a, k, m) : a;
        int panels = (n + NB - 1) / NB;
        int panelTasks = (panels + PANELS_PER_TASK - 1) / PANELS_PER_TASK;
        // Narrow outputs (a 64-wide layer is two panels) would leave threads idle: split the rows as well, each part
        // packing the same panels for itself, until every thread has two tasks.
        int strips = (m + MR - 1) / MR;
        int rowParts = Math.min(strips, Math.ceilDiv(2 * Parallel.threads(), panelTasks));
        Parallel.forEach(panelTasks * rowParts, task -> {
            float[] packedB = PANELS.get();
            int p0 = task / rowParts * PANELS_PER_TASK;
            int p1 = Math.min(panels, p0 + PANELS_PER_TASK);
            int part = task % rowParts;
            int rowStart = strips * part / rowParts * MR, rowEnd = Math.min(m, strips * (part + 1) / rowParts * MR);
            for (int k0 = 0; k0 < k; k0 += KC) {
                int kc = Math.min(KC, k - k0);
                b.pack(packedB, k0, kc, p0, p1);
                for (int i0 = rowStart; i0 < rowEnd; i0 += MR) {
                    for (int p = p0; p < p1; p++) {
                        int n0 = p * NB, nb = Math.min(NB, n - n0), panelOffset = (p - p0) * KC * NB;
                        if (i0 + MR <= m && nb == NB) {
                            tile(rows, i0 * k + k0, k, packedB, panelOffset, kc, c, i0 * n + n0, n);
                        } else {
                            edgeTile(rows, i0 * k + k0, k, packedB, panelOffset, kc, c, i0, n0, Math.min(MR, m - i0), nb, n);
                        }
                    }
                }
            }
        });
    }

    /**
     * The row-major {@code [cols, rows]} transpose of the row-major {@code [rows, cols]} array {@code a}, into the
     * calling thread's scratch. It goes in 16 × 16 blocks: a column-at-a-time copy writes rows of t that lie a
     * multiple of 4 KiB apart, which share one set of L1 and evict each other (bench/README.md, "Encoder training").
     */
    private static float[] transpose(float[] a, int rows, int cols) {
        float[] t = TRANSPOSED.get();
        if (t.length < rows * cols) {
            t = new float[rows * cols];
            TRANSPOSED.set(t);
        }
        float[] out = t;
        int block = 16;
        Parallel.forEach((cols + block - 1) / block, task -> {
            int j0 = task * block, j1 = Math.min(cols, j0 + block);
            for (int r0 = 0; r0 < rows; r0 += block) {
                int r1 = Math.min(rows, r0 + block);
                for (int j = j0; j < j1; j++) {
                    for (int r = r0; r < r1; r++) out[j * rows + r] = a[r * cols + j];
                }
            }
        });
        return out;
    }

    /**
     * Rows {@code k0 .. k0+kc} of B's panels {@code p0 .. p1-1} (columns {@code p * NB ..}) into
     * {@code packed[(p - p0) * KC * NB + kk * NB + j]}, zero-padded to NB columns.
     */
    private static void packB(float[] packed, Tensor b, boolean transposed, int k0, int kc, int p0, int p1, int k,
                              int n) {
        int n0 = p0 * NB, n1 = Math.min(n, p1 * NB);
        if (n1 - n0 < (p1 - p0) * NB) {
            int last = (p1 - 1 - p0) * KC * NB;
            Arrays.fill(packed, last, last + kc * NB, 0f);
        }
        if (!transposed) {
            // One pass along each row of B over all the panels' columns: contiguous reads, which prefetch well.
            DType type = b.dtype();
            for (int kk = 0; kk < kc; kk++) {
                MemorySegment row = row(b, k0 + kk, n);
                for (int j = n0; j < n1; j += L) {
                    int count = Math.min(L, n1 - j);
                    FloatVector v = count == L ? Lanes.load(type, row, j) : Lanes.loadPartial(type, row, j, count);
                    v.intoArray(packed, (j - n0) / NB * KC * NB + kk * NB + (j - n0) % NB);
                }
            }
            return;
        }
        // B[kk, j] = b[j, k0 + kk]: read along k (contiguous), widen a vector at a time, write down a column.
        float[] lane = new float[L];
        for (int j = n0; j < n1; j++) {
            long row = (long) j * k + k0;
            int at = (j - n0) / NB * KC * NB + (j - n0) % NB;
            for (int kk = 0; kk < kc; kk += L) {
                int count = Math.min(L, kc - kk);
                FloatVector v = count == L ? Lanes.load(b, row + kk) : Lanes.loadPartial(b, row + kk, count);
                v.intoArray(lane, 0);
                for (int x = 0; x < count; x++) packed[at + (kk + x) * NB] = lane[x];
            }
        }
    }

    /**
     * The microkernel: {@code c[MR rows, NB columns at cOffset] += A[MR, kc] * panel[kc, NB]}, A's rows read in place
     * from {@code a} at {@code aOffset}, {@code lda} apart: a strip of them (18 KiB at kc = 768) stays in L1 while
     * the panel streams from L2, so A needs no packing.
     */
    private static void tile(float[] a, int aOffset, int lda, float[] panel, int p, int kc, float[] c, int cOffset,
                             int ldc) {
        int r0 = aOffset, r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda, r4 = r3 + lda, r5 = r4 + lda;
        int c0 = cOffset, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc;
        FloatVector a00 = FloatVector.fromArray(F, c, c0), a01 = FloatVector.fromArray(F, c, c0 + L);
        FloatVector a10 = FloatVector.fromArray(F, c, c1), a11 = FloatVector.fromArray(F, c, c1 + L);
        FloatVector a20 = FloatVector.fromArray(F, c, c2), a21 = FloatVector.fromArray(F, c, c2 + L);
        FloatVector a30 = FloatVector.fromArray(F, c, c3), a31 = FloatVector.fromArray(F, c, c3 + L);
        FloatVector a40 = FloatVector.fromArray(F, c, c4), a41 = FloatVector.fromArray(F, c, c4 + L);
        FloatVector a50 = FloatVector.fromArray(F, c, c5), a51 = FloatVector.fromArray(F, c, c5 + L);
        for (int kk = 0; kk < kc; kk++) {
            FloatVector b0 = FloatVector.fromArray(F, panel, p + kk * NB);
            FloatVector b1 = FloatVector.fromArray(F, panel, p + kk * NB + L);
            FloatVector v = FloatVector.broadcast(F, a[r0 + kk]);
            a00 = v.fma(b0, a00);
            a01 = v.fma(b1, a01);
            v = FloatVector.broadcast(F, a[r1 + kk]);
            a10 = v.fma(b0, a10);
            a11 = v.fma(b1, a11);
            v = FloatVector.broadcast(F, a[r2 + kk]);
            a20 = v.fma(b0, a20);
            a21 = v.fma(b1, a21);
            v = FloatVector.broadcast(F, a[r3 + kk]);
            a30 = v.fma(b0, a30);
            a31 = v.fma(b1, a31);
            v = FloatVector.broadcast(F, a[r4 + kk]);
            a40 = v.fma(b0, a40);
            a41 = v.fma(b1, a41);
            v = FloatVector.broadcast(F, a[r5 + kk]);
            a50 = v.fma(b0, a50);
            a51 = v.fma(b1, a51);
        }
        a00.intoArray(c, c0);
        a01.intoArray(c, c0 + L);
        a10.intoArray(c, c1);
        a11.intoArray(c, c1 + L);
        a20.intoArray(c, c2);
        a21.intoArray(c, c2 + L);
        a30.intoArray(c, c3);
        a31.intoArray(c, c3 + L);
        a40.intoArray(c, c4);
        a41.intoArray(c, c4 + L);
        a50.intoArray(c, c5);
        a51.intoArray(c, c5 + L);
    }

    /**
     * A tile cut by the edge of c: its {@code rows} rows of A and its part of c copied into zero-padded scratch,
     * computed there, and that part of c copied back. Each element of c then takes the same chain of fmas as in a
     * whole tile, so a row's result does not depend on where the row falls in the batch (see {@link #panelRun}).
     */
    private static void edgeTile(float[] a, int aOffset, int lda, float[] panel, int p, int kc, float[] c,
                                 int i0, int n0, int rows, int cols, int ldc) {
        float[] strip = EDGE_STRIP.get();
        Arrays.fill(strip, 0f);
        for (int ii = 0; ii < rows; ii++) System.arraycopy(a, aOffset + ii * lda, strip, ii * KC, kc);
        float[] scratch = EDGE_TILE.get();
        Arrays.fill(scratch, 0f);
        for (int ii = 0; ii < rows; ii++) System.arraycopy(c, (i0 + ii) * ldc + n0, scratch, ii * NB, cols);
        tile(strip, 0, KC, panel, p, kc, scratch, 0, NB);
        for (int ii = 0; ii < rows; ii++) System.arraycopy(scratch, ii * NB, c, (i0 + ii) * ldc + n0, cols);
    }

    /**
     * Few rows against a {@code [inDim, outDim]} weight: each thread streams its own contiguous slice of weight
     * rows into partial sums of every output, several weight rows per pass over its partial sums; then the slices
     * are summed.
     */
    private static void streamRows(float[] out, float[] in, Tensor weight, float[] bias, int rows, int inDim, int outDim) {
        int slices = Math.max(1, Math.min(Parallel.threads(), inDim / 64));
        if (rows == 1 && outDim % L == 0 && outDim <= FLAT_ROW_MAX && weight.dtype() != DType.F16) {
            streamRow(out, in, weight, bias, inDim, outDim, slices);
            return;
        }
        int padded = (outDim + L - 1) / L * L;
        long sliceBytes = (long) rows * padded * Float.BYTES;
        MemorySegment partial = OffHeapScratch.SUMS.get().zeroed(slices * sliceBytes);
        Parallel.forEach(slices, slice -> {
            int from = (int) ((long) inDim * slice / slices);
            int to = (int) ((long) inDim * (slice + 1) / slices);
            int grouped = weight.dtype() == DType.F16 ? from : from + (to - from) / 4 * 4;
            MemorySegment acc = partial.asSlice(slice * sliceBytes, sliceBytes);
            addRows4(acc, padded, in, rows, inDim, weight, outDim, from, grouped);
            addRows2(acc, padded, in, rows, inDim, weight, outDim, grouped, to);
        });
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outDim; o += L) {
                VectorMask<Float> valid = F.indexInRange(o, outDim);
                FloatVector sum = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, o, valid);
                long at = (long) (r * padded + o) * Float.BYTES;
                for (int slice = 0; slice < slices; slice++) {
                    sum = sum.add(FloatVector.fromMemorySegment(F, partial, slice * sliceBytes + at, LE));
                }
                sum.intoArray(out, r * outDim + o, valid);
            }
        }
    }

    /**
     * Few rows against a {@link WeightMatrix}'s panels: threads claim contiguous runs of whole panels (see
     * {@link #shrinkingRuns}) and stream each as two sequential halves (see {@link #panelRun}). A last, zero-padded
     * panel goes through scratch, so that the loop needs no masks, which slowed it by a tenth (figures in
     * bench/README.md, "Kernels").
     */
    private static void streamPanels(float[] out, float[] in, WeightMatrix weight, float[] bias, int rows) {
        int inDim = weight.inDim(), outDim = weight.outDim(), full = outDim / NB;
        MemorySegment panels = weight.panels();
        int[] starts = shrinkingRuns(full, Parallel.threads());
        Parallel.forEach(starts.length - 1, task -> panelRun(in, rows, panels, inDim, starts[task], starts[task + 1],
                bias, 0, out, starts[task] * NB, outDim));
        if (full * NB < outDim) {
            float[] last = new float[rows * NB];
            float[] lastBias = null;
            if (bias != null) {
                lastBias = new float[NB];
                System.arraycopy(bias, full * NB, lastBias, 0, outDim - full * NB);
            }
            panelRun(in, rows, panels, inDim, full, full + 1, lastBias, full * NB, last, 0, NB);
            for (int r = 0; r < rows; r++) System.arraycopy(last, r * NB, out, r * outDim + full * NB, outDim - full * NB);
        }
    }

    /**
     * Where the runs of {@code count} panels that decoding's threads claim begin, and {@code count} last: each run a
     * {@code threads}-th of the panels left, at least one, as in OpenMP's guided schedule. The long first runs keep
     * the streams long; the short last ones let a thread that streams slower (a shared machine's vCPUs do, by up to a
     * tenth) take less, so that the others do not wait for it. Shorter runs and equal runs both decoded slower (figures
     * in bench/README.md, "Kernels").
     */
    static int[] shrinkingRuns(int count, int threads) {
        int[] starts = new int[count + 1];
        int runs = 0;
        for (int at = 0; at < count; at += Math.max(1, (count - at) / threads)) starts[runs++] = at;
        starts[runs++] = count;
        return Arrays.copyOf(starts, runs);
    }

    /**
     * Panels {@code p0 .. p1-1} (columns {@code p0 * NB ..}) against each of the {@code rows} rows of x, plus
     * {@code bias} if not null (column j's at {@code bias[j - biasColumn0]}): row r's columns go to {@code dst} from
     * {@code dstOffset + r * dstStride}. The sums start from the bias and take the inputs in order, as the GEMM's
     * tiles do, so a row's result is the same bits whether it is decoded alone or with others. The run is
     * read as two streams, its halves, a panel of each at a time, the sums in registers (an odd panel pairs with
     * itself): two streams decoded faster than one or four (bench/README.md, "Kernels"). One method, so that its
     * loops compile together.
     */
    private static void panelRun(float[] x, int rows, MemorySegment panels, int inDim, int p0, int p1, float[] bias,
                                 int biasColumn0, float[] dst, int dstOffset, int dstStride) {
        int half = (p1 - p0 + 1) / 2;
        long rowBytes = (long) NB * Float.BYTES, vectorBytes = (long) L * Float.BYTES, panelBytes = inDim * rowBytes;
        for (int pa = p0; pa < p0 + half; pa++) {
            int pb = pa + half < p1 ? pa + half : pa;
            long sa = pa * panelBytes, sb = pb * panelBytes;
            int r = 0;
            for (; r + 4 <= rows; r += 4) {
                panelPairFourRows(x, r, panels, inDim, sa, sb, pa, pb, p0, bias, biasColumn0, dst, dstOffset, dstStride);
            }
            for (; r < rows; r++) {
                int xr = r * inDim;
                FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0;
                if (bias != null) {
                    a0 = FloatVector.fromArray(F, bias, pa * NB - biasColumn0);
                    a1 = FloatVector.fromArray(F, bias, pa * NB - biasColumn0 + L);
                    b0 = FloatVector.fromArray(F, bias, pb * NB - biasColumn0);
                    b1 = FloatVector.fromArray(F, bias, pb * NB - biasColumn0 + L);
                }
                for (int i = 0; i < inDim; i++) {
                    long w = i * rowBytes;
                    FloatVector v = FloatVector.broadcast(F, x[xr + i]);
                    a0 = v.fma(FloatVector.fromMemorySegment(F, panels, sa + w, LE), a0);
                    a1 = v.fma(FloatVector.fromMemorySegment(F, panels, sa + w + vectorBytes, LE), a1);
                    b0 = v.fma(FloatVector.fromMemorySegment(F, panels, sb + w, LE), b0);
                    b1 = v.fma(FloatVector.fromMemorySegment(F, panels, sb + w + vectorBytes, LE), b1);
                }
                int at = dstOffset + r * dstStride;
                a0.intoArray(dst, at + (pa - p0) * NB);
                a1.intoArray(dst, at + (pa - p0) * NB + L);
                b0.intoArray(dst, at + (pb - p0) * NB);
                b1.intoArray(dst, at + (pb - p0) * NB + L);
            }
        }
    }

    /**
     * {@link #panelRun}'s two panels against rows {@code r .. r+3} of x at once: each weight vector is loaded once for
     * four rows, so a batch of decoding sequences reads its panels from cache a quarter as often (16 sums in
     * registers). Each sum takes the same fmas in the same order as a row alone, so the bits do not change.
     */
    private static void panelPairFourRows(float[] x, int r, MemorySegment panels, int inDim, long sa, long sb, int pa,
                                          int pb, int p0, float[] bias, int biasColumn0, float[] dst, int dstOffset,
                                          int dstStride) {
        long rowBytes = (long) NB * Float.BYTES, vectorBytes = (long) L * Float.BYTES;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0;
        if (bias != null) {
            a0 = FloatVector.fromArray(F, bias, pa * NB - biasColumn0);
            a1 = FloatVector.fromArray(F, bias, pa * NB - biasColumn0 + L);
            b0 = FloatVector.fromArray(F, bias, pb * NB - biasColumn0);
            b1 = FloatVector.fromArray(F, bias, pb * NB - biasColumn0 + L);
        }
        FloatVector a00 = a0, a01 = a1, b00 = b0, b01 = b1;
        FloatVector a10 = a0, a11 = a1, b10 = b0, b11 = b1;
        FloatVector a20 = a0, a21 = a1, b20 = b0, b21 = b1;
        FloatVector a30 = a0, a31 = a1, b30 = b0, b31 = b1;
        int x0 = r * inDim, x1 = x0 + inDim, x2 = x1 + inDim, x3 = x2 + inDim;
        for (int i = 0; i < inDim; i++) {
            long w = i * rowBytes;
            FloatVector wa0 = FloatVector.fromMemorySegment(F, panels, sa + w, LE);
            FloatVector wa1 = FloatVector.fromMemorySegment(F, panels, sa + w + vectorBytes, LE);
            FloatVector wb0 = FloatVector.fromMemorySegment(F, panels, sb + w, LE);
            FloatVector wb1 = FloatVector.fromMemorySegment(F, panels, sb + w + vectorBytes, LE);
            FloatVector v = FloatVector.broadcast(F, x[x0 + i]);
            a00 = v.fma(wa0, a00);
            a01 = v.fma(wa1, a01);
            b00 = v.fma(wb0, b00);
            b01 = v.fma(wb1, b01);
            v = FloatVector.broadcast(F, x[x1 + i]);
            a10 = v.fma(wa0, a10);
            a11 = v.fma(wa1, a11);
            b10 = v.fma(wb0, b10);
            b11 = v.fma(wb1, b11);
            v = FloatVector.broadcast(F, x[x2 + i]);
            a20 = v.fma(wa0, a20);
            a21 = v.fma(wa1, a21);
            b20 = v.fma(wb0, b20);
            b21 = v.fma(wb1, b21);
            v = FloatVector.broadcast(F, x[x3 + i]);
            a30 = v.fma(wa0, a30);
            a31 = v.fma(wa1, a31);
            b30 = v.fma(wb0, b30);
            b31 = v.fma(wb1, b31);
        }
        int ca = (pa - p0) * NB, cb = (pb - p0) * NB;
        int at = dstOffset + r * dstStride;
        a00.intoArray(dst, at + ca);
        a01.intoArray(dst, at + ca + L);
        b00.intoArray(dst, at + cb);
        b01.intoArray(dst, at + cb + L);
        at += dstStride;
        a10.intoArray(dst, at + ca);
        a11.intoArray(dst, at + ca + L);
        b10.intoArray(dst, at + cb);
        b11.intoArray(dst, at + cb + L);
        at += dstStride;
        a20.intoArray(dst, at + ca);
        a21.intoArray(dst, at + ca + L);
        b20.intoArray(dst, at + cb);
        b21.intoArray(dst, at + cb + L);
        at += dstStride;
        a30.intoArray(dst, at + ca);
        a31.intoArray(dst, at + ca + L);
        b30.intoArray(dst, at + cb);
        b31.intoArray(dst, at + cb + L);
    }

    /**
     * {@link #streamRows} for one row of x (decoding one sequence), F32 or BF16, {@code outDim} a multiple of the
     * vector length and at most {@value #FLAT_ROW_MAX}: each slice of weight rows runs {@link #addRows2Flat} into
     * its own partial sums on the heap.
     */
    private static void streamRow(float[] out, float[] in, Tensor weight, float[] bias, int inDim, int outDim, int slices) {
        int stride = (outDim + 1023) / 1024 * 1024 + 1024;
        float[] sums = ROW_SUMS.get();
        if (sums.length < slices * stride) ROW_SUMS.set(sums = new float[slices * stride]);
        float[] partial = sums;
        Parallel.forEach(slices, slice -> addRows2Flat(partial, slice * stride, in, weight, outDim,
                (int) ((long) inDim * slice / slices), (int) ((long) inDim * (slice + 1) / slices)));
        for (int o = 0; o < outDim; o += L) {
            FloatVector sum = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, o);
            for (int slice = 0; slice < slices; slice++) sum = sum.add(FloatVector.fromArray(F, partial, slice * stride + o));
            sum.intoArray(out, o);
        }
    }

    /**
     * Stream {@code k} of those a flat loop reads from weight rows {@code first ..} of a {@code [rows, width]}
     * weight: rows {@code first + k q .. first + (k + 1) q - 1}, contiguous, as one segment.
     */
    private static MemorySegment stream(Tensor weight, int first, int q, int width, int k) {
        long bytes = (long) q * width * weight.dtype().bytes;
        return weight.data().asSlice((long) first * width * weight.dtype().bytes + k * bytes, bytes);
    }

    /** Row {@code row} of a {@code [rows, width]} weight, as its own segment (see {@link Lanes#load(DType, MemorySegment, long)}). */
    private static MemorySegment row(Tensor weight, long row, int width) {
        long bytes = (long) width * weight.dtype().bytes;
        return weight.data().asSlice(row * bytes, bytes);
    }

    /*
     * The streaming loops below share their shape for the bandwidth it keeps, each choice measured on GPT-2 124M's
     * matvecs against a plain read of the same bytes (bench/README.md, "Why the streaming loops look as they do"):
     * a task's loops in one method; a pass over rows a quarter (or half) of the range apart, so that every stream runs
     * on; the weight load as fma's first argument beside an off-heap operand, so that C2 folds it into the fma; and
     * for one row of x a flat loop over two streams with partial sums in a heap array, for rows of at most
     * {@value #FLAT_ROW_MAX} elements.
     */

    /**
     * {@code acc[r * padded + o] += sum_i x[r, i] * weight[i, o]} over weight rows {@code from <= i < to}, a multiple
     * of four of them, in four streams: a pass adds rows {@code j, j + q, j + 2q, j + 3q} ({@code q} a quarter of the
     * range), one load and store of the partial sums per four weight vectors. F32 and BF16 only (see
     * {@link #addRows2}). Rows of x innermost: the weight rows come from memory once, then from cache.
     */
    private static void addRows4(MemorySegment acc, int padded, float[] x, int rows, int inDim, Tensor weight,
                                 int outDim, int from, int to) {
        DType type = weight.dtype();
        int full = outDim - outDim % L;
        int q = (to - from) / 4;
        for (int i = from; i < from + q; i++) {
            MemorySegment w0 = row(weight, i, outDim), w1 = row(weight, i + q, outDim);
            MemorySegment w2 = row(weight, i + 2 * q, outDim), w3 = row(weight, i + 3 * q, outDim);
            for (int r = 0; r < rows; r++) {
                int xi = r * inDim + i;
                long a = (long) r * padded * Float.BYTES;
                FloatVector v0 = FloatVector.broadcast(F, x[xi]), v1 = FloatVector.broadcast(F, x[xi + q]);
                FloatVector v2 = FloatVector.broadcast(F, x[xi + 2 * q]), v3 = FloatVector.broadcast(F, x[xi + 3 * q]);
                for (int o = 0; o < full; o += L) {
                    long at = a + (long) o * Float.BYTES;
                    FloatVector s = v0.fma(Lanes.load(type, w0, o), FloatVector.fromMemorySegment(F, acc, at, LE));
                    s = v1.fma(Lanes.load(type, w1, o), s);
                    s = v2.fma(Lanes.load(type, w2, o), s);
                    v3.fma(Lanes.load(type, w3, o), s).intoMemorySegment(acc, at, LE);
                }
                if (full < outDim) {
                    int n = outDim - full;
                    long at = a + (long) full * Float.BYTES;
                    FloatVector s = v0.fma(Lanes.loadPartial(type, w0, full, n), FloatVector.fromMemorySegment(F, acc, at, LE));
                    s = v1.fma(Lanes.loadPartial(type, w1, full, n), s);
                    s = v2.fma(Lanes.loadPartial(type, w2, full, n), s);
                    v3.fma(Lanes.loadPartial(type, w3, full, n), s).intoMemorySegment(acc, at, LE);
                }
            }
        }
    }

    /**
     * {@code sums[base + o] = sum_i x[i] * weight[i, o]} over weight rows {@code from <= i < to}, for one row of x, as
     * one flat loop over two streams (each half of the rows, contiguous in memory); an odd last row follows alone.
     */
    private static void addRows2Flat(float[] sums, int base, float[] x, Tensor weight, int outDim, int from, int to) {
        DType type = weight.dtype();
        Arrays.fill(sums, base, base + outDim, 0f);
        int q = (to - from) / 2;
        long elements = (long) q * outDim;
        MemorySegment w0 = stream(weight, from, q, outDim, 0), w1 = stream(weight, from, q, outDim, 1);
        int i = from, o = base, end = base + outDim;
        FloatVector v0 = FloatVector.broadcast(F, x[i]), v1 = FloatVector.broadcast(F, x[i + q]);
        for (long e = 0; e < elements; e += L) {
            FloatVector s = v0.fma(Lanes.load(type, w0, e), FloatVector.fromArray(F, sums, o));
            v1.fma(Lanes.load(type, w1, e), s).intoArray(sums, o);
            o += L;
            if (o == end && ++i < from + q) { // the next weight row of each stream
                o = base;
                v0 = FloatVector.broadcast(F, x[i]);
                v1 = FloatVector.broadcast(F, x[i + q]);
            }
        }
        if ((to - from) % 2 != 0) {
            MemorySegment w = row(weight, to - 1, outDim);
            FloatVector v = FloatVector.broadcast(F, x[to - 1]);
            for (int c = 0; c < outDim; c += L) {
                v.fma(Lanes.load(type, w, c), FloatVector.fromArray(F, sums, base + c)).intoArray(sums, base + c);
            }
        }
    }

    /**
     * {@link #addRows4} in two streams, for any number of rows (an odd last row pairs with itself at weight zero).
     * Two, not four, for F16: C2 stops intrinsifying F16 widenings beyond about two per method (four rows ran F16
     * at a third of the speed).
     */
    private static void addRows2(MemorySegment acc, int padded, float[] x, int rows, int inDim, Tensor weight,
                                 int outDim, int from, int to) {
        DType type = weight.dtype();
        int full = outDim - outDim % L;
        int half = (to - from + 1) / 2;
        for (int i = from; i < from + half; i++) {
            boolean pair = i + half < to;
            MemorySegment w0 = row(weight, i, outDim), w1 = row(weight, pair ? i + half : i, outDim);
            for (int r = 0; r < rows; r++) {
                int xi = r * inDim + i;
                long a = (long) r * padded * Float.BYTES;
                FloatVector v0 = FloatVector.broadcast(F, x[xi]), v1 = FloatVector.broadcast(F, pair ? x[xi + half] : 0f);
                for (int o = 0; o < full; o += L) {
                    long at = a + (long) o * Float.BYTES;
                    FloatVector s = v0.fma(Lanes.load(type, w0, o), FloatVector.fromMemorySegment(F, acc, at, LE));
                    v1.fma(Lanes.load(type, w1, o), s).intoMemorySegment(acc, at, LE);
                }
                if (full < outDim) {
                    int n = outDim - full;
                    long at = a + (long) full * Float.BYTES;
                    FloatVector s = v0.fma(Lanes.loadPartial(type, w0, full, n), FloatVector.fromMemorySegment(F, acc, at, LE));
                    v1.fma(Lanes.loadPartial(type, w1, full, n), s).intoMemorySegment(acc, at, LE);
                }
            }
        }
    }

    /**
     * Few rows against an {@code [outDim, inDim]} weight: dot products, threads split the outputs into chunks.
     * Four weight rows per pass share each input load; F16 goes one row at a time (see {@link #addRows2}).
     */
    private static void dotRows(float[] out, float[] in, Tensor weight, int rows, int inDim, int outDim) {
        MemorySegment x = OffHeapScratch.INPUT.get().copyOf(in, rows * inDim);
        int chunk = 256;
        Parallel.forEach((outDim + chunk - 1) / chunk, task -> {
            int o0 = task * chunk;
            int o1 = Math.min(outDim, o0 + chunk);
            int grouped = weight.dtype() == DType.F16 ? o0 : o0 + (o1 - o0) / 4 * 4;
            if (rows == 1 && inDim % L == 0 && grouped > o0) {
                dotRows4Flat(out, x, weight, inDim, o0, grouped);
            } else {
                dotRows4(out, x, weight, rows, inDim, outDim, o0, grouped);
            }
            dotRows1(out, x, weight, rows, inDim, outDim, grouped, o1);
        });
    }

    /**
     * {@code out[r, o] = sum_i x[r, i] * weight[o, i]} for outputs {@code o0 <= o < o1}, a multiple of four of them,
     * in four streams like {@link #addRows4}: a pass computes outputs {@code o, o + q, o + 2q, o + 3q}.
     */
    private static void dotRows4(float[] out, MemorySegment x, Tensor weight, int rows, int inDim, int outDim,
                                 int o0, int o1) {
        DType type = weight.dtype();
        int full = inDim - inDim % L;
        int q = (o1 - o0) / 4;
        for (int o = o0; o < o0 + q; o++) {
            MemorySegment w0 = row(weight, o, inDim), w1 = row(weight, o + q, inDim);
            MemorySegment w2 = row(weight, o + 2 * q, inDim), w3 = row(weight, o + 3 * q, inDim);
            for (int r = 0; r < rows; r++) {
                long xr = (long) r * inDim * Float.BYTES;
                FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
                FloatVector a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
                for (int i = 0; i < full; i += L) {
                    FloatVector v = FloatVector.fromMemorySegment(F, x, xr + (long) i * Float.BYTES, LE);
                    a0 = v.fma(Lanes.load(type, w0, i), a0);
                    a1 = v.fma(Lanes.load(type, w1, i), a1);
                    a2 = v.fma(Lanes.load(type, w2, i), a2);
                    a3 = v.fma(Lanes.load(type, w3, i), a3);
                }
                if (full < inDim) {
                    int n = inDim - full;
                    FloatVector v = FloatVector.fromMemorySegment(F, x, xr + (long) full * Float.BYTES, LE, F.indexInRange(0, n));
                    a0 = v.fma(Lanes.loadPartial(type, w0, full, n), a0);
                    a1 = v.fma(Lanes.loadPartial(type, w1, full, n), a1);
                    a2 = v.fma(Lanes.loadPartial(type, w2, full, n), a2);
                    a3 = v.fma(Lanes.loadPartial(type, w3, full, n), a3);
                }
                int at = r * outDim + o;
                out[at] = VectorMath.sum(a0);
                out[at + q] = VectorMath.sum(a1);
                out[at + 2 * q] = VectorMath.sum(a2);
                out[at + 3 * q] = VectorMath.sum(a3);
            }
        }
    }

    /**
     * {@link #dotRows4} for one row of x with {@code inDim} a multiple of the vector length, as one flat loop over the
     * four streams, each a quarter of the rows and contiguous in memory; at the end of each weight row the four sums
     * are reduced together.
     */
    private static void dotRows4Flat(float[] out, MemorySegment x, Tensor weight, int inDim, int o0, int o1) {
        DType type = weight.dtype();
        int q = (o1 - o0) / 4;
        long elements = (long) q * inDim;
        MemorySegment w0 = stream(weight, o0, q, inDim, 0), w1 = stream(weight, o0, q, inDim, 1);
        MemorySegment w2 = stream(weight, o0, q, inDim, 2), w3 = stream(weight, o0, q, inDim, 3);
        FloatVector zero = FloatVector.zero(F), a0 = zero, a1 = zero, a2 = zero, a3 = zero;
        int i = 0, o = o0;
        for (long e = 0; e < elements; e += L) {
            FloatVector v = FloatVector.fromMemorySegment(F, x, (long) i * Float.BYTES, LE);
            a0 = v.fma(Lanes.load(type, w0, e), a0);
            a1 = v.fma(Lanes.load(type, w1, e), a1);
            a2 = v.fma(Lanes.load(type, w2, e), a2);
            a3 = v.fma(Lanes.load(type, w3, e), a3);
            i += L;
            if (i == inDim) { // the end of a weight row in each stream
                FloatVector sums = VectorMath.sum4(a0, a1, a2, a3);
                out[o] = sums.lane(0);
                out[o + q] = sums.lane(1);
                out[o + 2 * q] = sums.lane(2);
                out[o + 3 * q] = sums.lane(3);
                o++;
                i = 0;
                a0 = zero;
                a1 = zero;
                a2 = zero;
                a3 = zero;
            }
        }
    }

    /** {@link #dotRows4} one weight row at a time, for any number of outputs. */
    private static void dotRows1(float[] out, MemorySegment x, Tensor weight, int rows, int inDim, int outDim,
                                 int o0, int o1) {
        DType type = weight.dtype();
        int full = inDim - inDim % L;
        for (int o = o0; o < o1; o++) {
            MemorySegment w = row(weight, o, inDim);
            for (int r = 0; r < rows; r++) {
                long xr = (long) r * inDim * Float.BYTES;
                FloatVector acc = FloatVector.zero(F);
                for (int i = 0; i < full; i += L) {
                    acc = FloatVector.fromMemorySegment(F, x, xr + (long) i * Float.BYTES, LE).fma(Lanes.load(type, w, i), acc);
                }
                if (full < inDim) {
                    int n = inDim - full;
                    acc = FloatVector.fromMemorySegment(F, x, xr + (long) full * Float.BYTES, LE, F.indexInRange(0, n))
                            .fma(Lanes.loadPartial(type, w, full, n), acc);
                }
                out[r * outDim + o] = VectorMath.sum(acc);
            }
        }
    }
}
