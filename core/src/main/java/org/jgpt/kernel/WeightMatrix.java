package org.jgpt.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A model's weight matrix as {@link Matmul#forward(float[], float[], WeightMatrix, float[], int)} reads it: the
 * map from {@code inDim} inputs to {@code outDim} outputs.
 *
 * <p>F32 weights are copied into column panels: panel {@code p} holds columns {@code p * PANEL ..} of every row,
 * {@value #PANEL} floats a row, row after row, the last panel zero-padded. Decoding then reads runs of whole
 * panels in order with the sums in registers, where the checkpoint's row-major layout needs partial sums in memory
 * and more streams; the GEMM takes a panel's rows as they lie. The copy replaces the checkpoint's pages in memory:
 * a memory-mapped source is unloaded once it has been read. It costs a pass over the weights at load (0.4 s for
 * GPT-2 124M here) and buys F32 decoding a few percent of the bandwidth roofline, prefill a few percent of speed.
 *
 * <p>F16 and BF16 weights stay where they are (memory-mapped), so that large half-precision checkpoints load without
 * a copy; their decoding is not bound by bandwidth alone anyway. A {@link Q8Matrix} is read by its own kernels.
 */
public final class WeightMatrix {
    /** Columns of a panel: the GEMM's panel width, two vectors. */
    static final int PANEL = 2 * Lanes.LENGTH;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String name;
    private final int inDim;
    private final int outDim;
    /** The source tensor as it lies, or null when packed. */
    private final Tensor tensor;
    /** Whether {@code tensor} is {@code [outDim, inDim]} rather than {@code [inDim, outDim]}. */
    private final boolean transposed;
    /** F32 panels, or null. */
    private final MemorySegment panels;
    /** Q8_0 blocks, or null. */
    private final Q8Matrix quantized;

    private WeightMatrix(String name, int inDim, int outDim, Tensor tensor, boolean transposed, MemorySegment panels,
                         Q8Matrix quantized) {
        this.name = name;
        this.inDim = inDim;
        this.outDim = outDim;
        this.tensor = tensor;
        this.transposed = transposed;
        this.panels = panels;
        this.quantized = quantized;
    }

    /** A Q8_0 weight. */
    public static WeightMatrix of(Q8Matrix weight) {
        return new WeightMatrix(weight.name(), weight.inDim(), weight.outDim(), null, false, null, weight);
    }

    /** A {@code [inDim, outDim]} weight, the layout of GPT-2's Conv1D. */
    public static WeightMatrix of(Tensor weight) {
        return of(weight, false);
    }

    /** A {@code [outDim, inDim]} weight, the layout of nn.Linear and of the tied LM head (the token embedding). */
    public static WeightMatrix ofTransposed(Tensor weight) {
        return of(weight, true);
    }

    private static WeightMatrix of(Tensor weight, boolean transposed) {
        if (weight.rank() != 2) throw new IllegalArgumentException("tensor " + weight + " is not a matrix");
        int inDim = weight.dim(transposed ? 1 : 0), outDim = weight.dim(transposed ? 0 : 1);
        if (weight.dtype() != DType.F32) {
            return new WeightMatrix(weight.name(), inDim, outDim, weight, transposed, null, null);
        }
        MemorySegment panels = pack(weight, transposed, inDim, outDim);
        if (weight.data().isMapped()) weight.data().unload();
        return new WeightMatrix(weight.name(), inDim, outDim, null, false, panels, null);
    }

    /** The F32 weight's panels, each {@code inDim} rows of {@value #PANEL} floats. */
    private static MemorySegment pack(Tensor weight, boolean transposed, int inDim, int outDim) {
        int count = (outDim + PANEL - 1) / PANEL;
        long panelBytes = (long) inDim * PANEL * Float.BYTES;
        MemorySegment panels = HugePages.allocate(count * panelBytes, Arena.ofAuto());
        MemorySegment source = weight.data();
        Parallel.forEach(count, p -> {
            MemorySegment panel = panels.asSlice(p * panelBytes, panelBytes);
            int columns = Math.min(PANEL, outDim - p * PANEL);
            if (!transposed) { // a run of columns from each row
                for (int i = 0; i < inDim; i++) {
                    MemorySegment.copy(source, ((long) i * outDim + (long) p * PANEL) * Float.BYTES, panel,
                            (long) i * PANEL * Float.BYTES, (long) columns * Float.BYTES);
                }
                return;
            }
            for (int j = 0; j < columns; j++) { // each source row becomes a column
                long row = ((long) p * PANEL + j) * inDim;
                for (int i = 0; i < inDim; i++) {
                    panel.setAtIndex(F32, (long) i * PANEL + j, source.getAtIndex(F32, row + i));
                }
            }
        });
        return panels;
    }

    public String name() {
        return name;
    }

    public int inDim() {
        return inDim;
    }

    public int outDim() {
        return outDim;
    }

    Tensor tensor() {
        return tensor;
    }

    boolean transposed() {
        return transposed;
    }

    /** Whether the weights are in panels; else {@link #tensor} holds them. */
    boolean packed() {
        return panels != null;
    }

    /** The Q8_0 weight, or null. */
    Q8Matrix quantized() {
        return quantized;
    }

    int panelCount() {
        return (outDim + PANEL - 1) / PANEL;
    }

    /** The panels, one after another, each {@code inDim} rows of {@value #PANEL} floats. */
    MemorySegment panels() {
        return panels;
    }

    @Override
    public String toString() {
        if (quantized != null) return quantized.toString();
        return name + " [" + inDim + " -> " + outDim + "]" + (packed() ? " F32 panels" : " " + tensor.dtype());
    }
}
