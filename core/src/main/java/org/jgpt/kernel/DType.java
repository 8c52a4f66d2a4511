package org.jgpt.kernel;

/**
 * Element types of weight tensors, as named in safetensors headers. I8 holds the quants of a {@link Q8Matrix}, which
 * only it reads: the float kernels refuse I8 tensors.
 */
public enum DType {
    F32(4),
    F16(2),
    BF16(2),
    I8(1);

    /** Bytes per element. */
    public final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }
}
