package org.jgpt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Packing F32 weights out of a memory-mapped file, which is then unloaded. */
class WeightMatrixTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    /** The product is exact here: small integers, so float sums carry no rounding (tolerance 0). */
    @Test
    void packsMappedWeightsAndLeavesTheSourceReadable() throws IOException {
        int inDim = 5, outDim = 37; // a partial second panel
        Random random = new Random(6);
        float[] values = new float[inDim * outDim];
        for (int i = 0; i < values.length; i++) values[i] = random.nextInt(9) - 4;
        Path file = dir.resolve("weights.bin");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocate((long) values.length * Float.BYTES);
            for (int i = 0; i < values.length; i++) bytes.setAtIndex(F32, i, values[i]);
            Files.write(file, bytes.toArray(ValueLayout.JAVA_BYTE));
        }
        try (Arena arena = Arena.ofShared(); // as a checkpoint's: the pool's threads read it
             FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            Tensor tensor = new Tensor("h.0.mlp.c_fc.weight", DType.F32, new long[] {inDim, outDim}, mapped);
            WeightMatrix matrix = WeightMatrix.of(tensor);
            float[] x = {1, -2, 3, 0, 5};
            float[] out = new float[outDim];
            Matmul.forward(out, x, matrix, null, 1);
            for (int o = 0; o < outDim; o++) {
                float expected = 0;
                for (int i = 0; i < inDim; i++) expected += x[i] * values[i * outDim + o];
                assertEquals(expected, out[o], 0f, "output " + o);
            }
            for (int i = 0; i < values.length; i++) assertEquals(values[i], tensor.get(i), 0f, "source element " + i);
        }
    }

    @Test
    void rejectsATensorThatIsNotAMatrix() {
        Tensor vector = Tensor.of("h.0.ln_1.weight", new float[4], 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WeightMatrix.of(vector));
        assertTrue(e.getMessage().contains("h.0.ln_1.weight"), e.getMessage());
    }
}
