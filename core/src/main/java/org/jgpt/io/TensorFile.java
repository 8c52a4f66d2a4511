package org.jgpt.io;

import java.nio.file.Path;
import java.util.Set;
import org.jgpt.kernel.Tensor;

/**
 * A checkpoint file opened for reading: its tensors are views of the memory-mapped file, valid until {@link #close}.
 */
public sealed interface TensorFile extends AutoCloseable permits Safetensors, TorchCheckpoint {
    Path file();

    /** The tensor names, in the file's order. */
    Set<String> names();

    /** The named tensor, without copying; fails naming the file and tensor when its dtype is not F32, F16 or BF16
     * (or, in safetensors, the I8 of Q8_0 quants). */
    Tensor tensor(String name);

    /** Unmaps the file; its tensors must not be used afterwards. */
    @Override
    void close();

    /** Opens {@code model.safetensors}-style files by their extension, anything else as a PyTorch {@code .bin}. */
    static TensorFile open(Path file) {
        return file.getFileName().toString().endsWith(".safetensors") ? Safetensors.open(file) : TorchCheckpoint.open(file);
    }
}
