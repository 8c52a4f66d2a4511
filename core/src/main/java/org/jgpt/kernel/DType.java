package org.jgpt.kernel;

/** Element types of weight tensors, as named in safetensors headers. */
public enum DType {
    F32(4),
    F16(2),
    BF16(2);

    /** Bytes per element. */
    public final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }
}
