package org.jgpt.io;

import static org.jgpt.io.SafetensorsTest.assertMentions;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.jgpt.kernel.DType;
import org.jgpt.kernel.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PyTorch .bin reader on archives crafted here, byte by byte, as torch.save lays them out (a zip of stored
 * entries: archive/data.pkl, archive/data/KEY); torch-written files are covered by the fixture tests.
 */
class TorchCheckpointTest {
    @TempDir
    Path dir;

    /** Pickle opcodes, protocol 2, as torch.save emits them. */
    private static final class Pickle {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pickle op(int... bytes) {
            for (int b : bytes) out.write(b);
            return this;
        }

        Pickle global(String module, String name) {
            out.writeBytes(("c" + module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        Pickle str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            out.write('X');
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
            out.writeBytes(b);
            return this;
        }

        Pickle integer(long n) {
            out.write('J');
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) n).array());
            return this;
        }

        Pickle tuple(long... values) {
            op('(');
            for (long v : values) integer(v);
            return op('t');
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    /** {@code {name: _rebuild_tensor_v2(storage(type, "0", numel), offset, shape, stride, False, OrderedDict())}}. */
    private static byte[] stateDict(String name, String storageType, long numel, long offset, long[] shape, long[] stride) {
        Pickle p = new Pickle().op(0x80, 2).op('}').op('(').str(name);
        p.global("torch._utils", "_rebuild_tensor_v2").op('(');
        p.op('(').str("storage").global("torch", storageType).str("0").str("cpu").integer(numel).op('t').op('Q');
        p.integer(offset).tuple(shape).tuple(stride).op(0x89);
        p.global("collections", "OrderedDict").op(')').op('R');
        return p.op('t').op('R').op('u').op('.').bytes();
    }

    private Path zip(Map<String, byte[]> entries, boolean compress) throws IOException {
        Path f = dir.resolve("pytorch_model.bin");
        try (OutputStream os = Files.newOutputStream(f); ZipOutputStream zip = new ZipOutputStream(os)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry z = new ZipEntry(e.getKey());
                if (!compress) {
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    z.setMethod(ZipEntry.STORED);
                    z.setSize(e.getValue().length);
                    z.setCompressedSize(e.getValue().length);
                    z.setCrc(crc.getValue());
                }
                zip.putNextEntry(z);
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return f;
    }

    private Path archive(byte[] pickle, byte[] storage) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", pickle);
        if (storage != null) entries.put("archive/data/0", storage);
        return zip(entries, false);
    }

    private static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return b.array();
    }

    private static void assertFails(Path f, String... parts) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> {
            try (TorchCheckpoint c = TorchCheckpoint.open(f)) {
                c.names().forEach(c::tensor);
            }
        });
        assertMentions(e, f, parts);
    }

    @Test
    void readsATensorInPlace() throws IOException {
        Path f = archive(stateDict("w", "FloatStorage", 8, 2, new long[] {2, 3}, new long[] {3, 1}),
                floats(0, 1, 2, 3, 4, 5, 6, 7));
        try (TorchCheckpoint c = TorchCheckpoint.open(f)) {
            Tensor w = c.tensor("w");
            assertEquals(DType.F32, w.dtype());
            assertArrayEquals(new long[] {2, 3}, w.shape());
            assertArrayEquals(new float[] {2, 3, 4, 5, 6, 7}, w.toFloatArray(), "storage offset 2");
        }
    }

    @Test
    void refusesForbiddenGlobalsWithoutRunningThem() throws IOException {
        Path marker = dir.resolve("pwned");
        byte[] osSystem = new Pickle().op(0x80, 2).global("os", "system").op('(').str("touch " + marker).op('t')
                .op('R').op('.').bytes();
        assertFails(archive(osSystem, null), "data.pkl", "forbidden global os.system");
        assertEquals(false, Files.exists(marker));
        byte[] eval = new Pickle().op(0x80, 2).global("builtins", "eval").op('(').str("1").op('t').op('R').op('.').bytes();
        assertFails(archive(eval, null), "forbidden global builtins.eval");
        byte[] oldRebuild = stateDict("w", "FloatStorage", 1, 0, new long[] {1}, new long[] {1});
        String text = new String(oldRebuild, StandardCharsets.ISO_8859_1).replace("_rebuild_tensor_v2", "_rebuild_tensor_v9");
        assertFails(archive(text.getBytes(StandardCharsets.ISO_8859_1), floats(1)),
                "forbidden global torch._utils._rebuild_tensor_v9");
    }

    @Test
    void refusesNonContiguousTensors() throws IOException {
        assertFails(archive(stateDict("h.0.attn.c_attn.weight", "FloatStorage", 6, 0, new long[] {2, 3}, new long[] {1, 2}),
                floats(0, 1, 2, 3, 4, 5)), "tensor h.0.attn.c_attn.weight", "not contiguous");
    }

    @Test
    void refusesTensorsOutsideTheirStorage() throws IOException {
        assertFails(archive(stateDict("w", "FloatStorage", 6, 5, new long[] {2, 3}, new long[] {3, 1}),
                floats(0, 1, 2, 3, 4, 5)), "tensor w", "outside its storage");
        assertFails(archive(stateDict("w", "FloatStorage", 6, 0, new long[] {2, 3}, new long[] {3, 1}), floats(0, 1)),
                "storage 0", "fewer than 6 elements");
        assertFails(archive(stateDict("w", "FloatStorage", 1, 0, new long[] {1}, new long[] {1}), null),
                "storage 0", "no entry archive/data/0");
    }

    @Test
    void readsPastMaskBuffersButRefusesToComputeWithThem() throws IOException {
        Path f = archive(stateDict("h.0.attn.bias", "BoolStorage", 4, 0, new long[] {1, 1, 2, 2},
                new long[] {4, 4, 2, 1}), new byte[] {1, 0, 1, 1});
        try (TorchCheckpoint c = TorchCheckpoint.open(f)) {
            assertEquals(List.of("h.0.attn.bias"), List.copyOf(c.names()));
        }
        assertFails(f, "unsupported dtype BOOL for tensor h.0.attn.bias");
    }

    @Test
    void refusesCompressedEntries() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", stateDict("w", "FloatStorage", 1, 0, new long[] {1}, new long[] {1}));
        entries.put("archive/data/0", floats(1));
        assertFails(zip(entries, true), "zip entry archive/data.pkl is compressed");
    }

    @Test
    void refusesTheLegacyFormatAndOtherFiles() throws IOException {
        Path legacy = dir.resolve("legacy.bin");
        Files.write(legacy, new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10});
        assertFails(legacy, "legacy (pre-1.6) torch.save format");
        Path text = dir.resolve("text.bin");
        Files.writeString(text, "not a checkpoint");
        assertFails(text, "not a zip archive");
        Path good = archive(stateDict("w", "FloatStorage", 1, 0, new long[] {1}, new long[] {1}), floats(1));
        byte[] all = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.bin");
        Files.write(cut, java.util.Arrays.copyOf(all, all.length - 30));
        assertFails(cut, "truncated");
    }

    @Test
    void refusesUnknownOpcodes() throws IOException {
        byte[] pickle = new Pickle().op(0x80, 2).op('i').bytes(); // INST: a class instantiation torch never writes
        assertFails(archive(pickle, null), "data.pkl", "unsupported opcode 0x69");
    }
}
