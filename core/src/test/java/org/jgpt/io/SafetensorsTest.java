package org.jgpt.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jgpt.kernel.DType;
import org.jgpt.kernel.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors reader's validation (each error names the file and the tensor) and the writer. */
class SafetensorsTest {
    @TempDir
    Path dir;

    /** A file from a header (as text) and {@code dataBytes} bytes of data, with a correct header length. */
    private Path file(String header, int dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, b.array());
        return f;
    }

    private static void assertFails(Path f, String... parts) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Safetensors.open(f).close());
        assertMentions(e, f, parts);
    }

    static void assertMentions(Exception e, Path f, String... parts) {
        assertTrue(e.getMessage().contains(f.toString()), () -> "names the file: " + e.getMessage());
        for (String p : parts) assertTrue(e.getMessage().contains(p), () -> "mentions '" + p + "': " + e.getMessage());
    }

    @Test
    void fileShorterThanTheHeaderLength() throws IOException {
        Path f = dir.resolve("short.safetensors");
        Files.write(f, new byte[] {1, 2, 3, 4});
        assertFails(f, "truncated");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        Path f = dir.resolve("long.safetensors");
        Files.write(f, ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).array());
        assertFails(f, "header length 1000", "40 bytes");
        Files.write(f, ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN).putLong(-1).array());
        assertFails(f, "header length 18446744073709551615");
    }

    @Test
    void headerThatIsNotJson() throws IOException {
        assertFails(file("{\"w\": {\"dtype\": \"F32\",", 0), "not a JSON object");
        assertFails(file("[1, 2]", 0), "not a JSON object");
    }

    @Test
    void offsetsPastTheEndOfTheData() throws IOException {
        assertFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4),
                "tensor w", "[0, 8]", "run past the end");
    }

    @Test
    void truncatedFileNamesTheTensorCut() throws IOException {
        Path f = dir.resolve("model.safetensors");
        Safetensors.write(f, List.of(Tensor.of("a", new float[] {1, 2}, 2), Tensor.of("b", new float[] {3, 4}, 2)), Map.of());
        byte[] whole = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(whole, whole.length - 1));
        assertFails(f, "tensor b", "run past the end");
    }

    @Test
    void overlappingOffsets() throws IOException {
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "tensors a and b overlap");
    }

    @Test
    void bytesThatBelongToNoTensor() throws IOException {
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12),
                "tensor b begins at byte 8", "tensor a ends at byte 4", "4 bytes between");
        assertFails(file("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
                "tensor b begins at byte 4", "no tensor ends at byte 0");
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12),
                "the tensors end at byte 4", "holds 12 bytes", "the last 8 belong to no tensor");
        // A tensor listed twice: the JSON reader keeps the last entry, so the first one's bytes are left over.
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
                "tensor a begins at byte 4", "no tensor ends at byte 0");
    }

    @Test
    void offsetsThatDisagreeWithTheShape() throws IOException {
        assertFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8),
                "tensor w", "hold 8 bytes", "needs 12");
        assertFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8),
                "tensor w", "not a [begin, end] pair");
        assertFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8), "tensor w", "shape");
    }

    @Test
    void unknownDtype() throws IOException {
        assertFails(file("{\"w\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "tensor w", "unknown dtype F33");
    }

    @Test
    void knownButUnsupportedDtypeFailsWhenTheTensorIsAsked() throws IOException {
        Path f = file("{\"mask\":{\"dtype\":\"BOOL\",\"shape\":[4],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[4,12]}}", 12);
        try (Safetensors st = Safetensors.open(f)) {
            assertEquals(List.of("mask", "w"), new ArrayList<>(st.names()));
            CheckpointException e = assertThrows(CheckpointException.class, () -> st.tensor("w"));
            assertMentions(e, f, "unsupported dtype I64 for tensor w");
        }
    }

    @Test
    void writesAndReadsBackEveryDtypeBitForBit() throws IOException {
        short[] half = {0x3C00, (short) 0xC000, 0x7BFF}; // 1, -2, 65504 as IEEE half
        short[] bf16 = {0x3F80, (short) 0xBF00, 0x7F7F}; // 1, -0.5, the largest finite bfloat16
        List<Tensor> tensors = List.of(
                Tensor.of("w.f32", new float[] {1.5f, -0f, Float.MIN_VALUE, 3e38f, 7, 8}, 2, 3),
                new Tensor("w.f16", DType.F16, new long[] {3}, MemorySegment.ofArray(half)),
                new Tensor("w.bf16", DType.BF16, new long[] {3, 1}, MemorySegment.ofArray(bf16)),
                Tensor.of("scalar", new float[] {42}));
        Path f = dir.resolve("out.safetensors");
        Safetensors.write(f, tensors, Map.of("format", "pt", "note", "ünïcode"));
        try (Safetensors st = Safetensors.open(f)) {
            assertEquals(Map.of("format", "pt", "note", "ünïcode"), st.metadata());
            assertEquals(List.of("w.f32", "w.f16", "w.bf16", "scalar"), new ArrayList<>(st.names()));
            for (Tensor t : tensors) {
                Tensor back = st.tensor(t.name());
                assertEquals(t.dtype(), back.dtype());
                assertArrayEquals(t.shape(), back.shape());
                assertArrayEquals(t.data().toArray(ValueLayout.JAVA_BYTE), back.data().toArray(ValueLayout.JAVA_BYTE), t.name());
            }
        }
        byte[] bytes = Files.readAllBytes(f);
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLength % 8, "the header is padded to 8 bytes, as the reference writer does");
        assertEquals(8 + headerLength + 6 * 4 + 3 * 2 + 3 * 2 + 4, bytes.length, "data packed back to back");
    }

    @Test
    void convertsWhileWritingWithRoundToNearestEven() throws IOException {
        float[] x = {1f, Float.intBitsToFloat(0x3F808000), Float.intBitsToFloat(0x3F818000),
                Float.intBitsToFloat(0x3F808001), -2.5f, 65520f, 1e-8f};
        Path f = dir.resolve("converted.safetensors");
        Safetensors.write(f, List.of(Tensor.of("x", x, x.length)), DType.BF16, Map.of());
        try (Safetensors st = Safetensors.open(f)) {
            Tensor t = st.tensor("x");
            assertEquals(DType.BF16, t.dtype());
            // as torch 1.13 rounds: halfway cases to the even neighbour (0x3F80, 0x3F82), just above halfway up (0x3F81)
            short[] expected = {0x3F80, 0x3F80, 0x3F82, 0x3F81, (short) 0xC020, 0x4780, 0x322C};
            short[] got = t.data().toArray(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
            assertArrayEquals(expected, got);
        }
        Safetensors.write(f, List.of(Tensor.of("x", x, x.length)), DType.F16, Map.of());
        try (Safetensors st = Safetensors.open(f)) {
            Tensor t = st.tensor("x");
            for (int i = 0; i < x.length; i++) assertEquals(Float.float16ToFloat(Float.floatToFloat16(x[i])), t.get(i));
            assertEquals(Float.POSITIVE_INFINITY, t.get(5), "65520 overflows half precision");
        }
    }

    @Test
    void failedWriteLeavesTheOldFileAndNoTemporaryFile() throws IOException {
        Path f = dir.resolve("model.safetensors");
        Files.writeString(f, "old");
        List<Tensor> twice = List.of(Tensor.of("w", new float[] {1}, 1), Tensor.of("w", new float[] {2}, 1));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(f, twice, Map.of()));
        assertEquals("old", Files.readString(f));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList());
        }
    }

    @Test
    void rewritingATorchFileReproducesItsData() throws IOException {
        Path original = Fixtures.variant("tiny-bf16").resolve("model.safetensors");
        Path copy = dir.resolve("copy.safetensors");
        try (Safetensors st = Safetensors.open(original)) {
            List<Tensor> all = st.names().stream().map(st::tensor).toList();
            Safetensors.write(copy, all, st.metadata());
        }
        byte[] a = Files.readAllBytes(original), b = Files.readAllBytes(copy);
        long ha = ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN).getLong();
        long hb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertArrayEquals(Arrays.copyOfRange(a, (int) (8 + ha), a.length), Arrays.copyOfRange(b, (int) (8 + hb), b.length));
    }
}
