package org.jgpt.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jgpt.kernel.DType;
import org.jgpt.kernel.Tensor;

/**
 * A PyTorch {@code pytorch_model.bin} as {@code torch.save} writes it since 1.6: a zip archive holding
 * {@code <name>/data.pkl} (the pickled state dict, whose tensors refer to storages by key) and one uncompressed entry
 * {@code <name>/data/<key>} per storage. The file is memory-mapped and tensors are views of their storage entries;
 * the pickle goes through {@link Unpickler}, which runs no code. Only contiguous tensors are supported.
 */
public final class TorchCheckpoint implements TensorFile {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int LOCAL_HEADER = 0x04034b50, CENTRAL_HEADER = 0x02014b50, END = 0x06054b50;
    private static final int ZIP64_LOCATOR = 0x07064b50, ZIP64_END = 0x06064b50;

    /** One storage: its dtype as safetensors names it, and its bytes in the file. */
    private record Storage(String key, String dtype, int elementBytes, MemorySegment bytes) {}

    private record Stored(String dtype, long[] shape, MemorySegment bytes) {}

    private final Path file;
    private final Arena arena;
    private final Map<String, Stored> tensors;

    private TorchCheckpoint(Path file, Arena arena, Map<String, Stored> tensors) {
        this.file = file;
        this.arena = arena;
        this.tensors = tensors;
    }

    /** Memory-maps a {@code torch.save} zip file and reads its state dict; every tensor is checked before use. */
    public static TorchCheckpoint open(Path file) {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            MemorySegment whole = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            Map<String, MemorySegment> entries = new Zip(file, whole).entries();
            String pkl = entries.keySet().stream().filter(n -> n.equals("data.pkl") || n.endsWith("/data.pkl"))
                    .findFirst()
                    .orElseThrow(() -> new CheckpointException(file, "zip archive has no data.pkl: not a torch.save file"));
            String prefix = pkl.substring(0, pkl.length() - "data.pkl".length());
            Map<String, Storage> storages = new HashMap<>();
            Object root = Unpickler.load(file, pkl, entries.get(pkl).toArray(ValueLayout.JAVA_BYTE),
                    pid -> storage(file, pid, prefix, entries, storages));
            return new TorchCheckpoint(file, arena, stateDict(file, root));
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Resolves torch's persistent id {@code ('storage', storage_type, key, location, numel)}. */
    private static Storage storage(Path file, List<Object> pid, String prefix, Map<String, MemorySegment> entries,
                                   Map<String, Storage> storages) {
        if (pid.size() != 5 || !"storage".equals(pid.get(0)) || !(pid.get(1) instanceof Unpickler.Global type)
                || type.dtype == null || !(pid.get(2) instanceof String key) || !(pid.get(4) instanceof Long numel)) {
            throw new CheckpointException(file, "data.pkl: unexpected persistent id " + pid);
        }
        Storage known = storages.get(key);
        if (known != null) return known;
        MemorySegment bytes = entries.get(prefix + "data/" + key);
        if (bytes == null) {
            throw new CheckpointException(file, "storage " + key + ": no entry " + prefix + "data/" + key + " in the archive");
        }
        if (numel < 0 || numel > bytes.byteSize() / type.elementBytes) {
            throw new CheckpointException(file, "storage " + key + ": entry holds " + bytes.byteSize()
                    + " bytes, fewer than " + numel + " elements of " + type.dtype);
        }
        Storage storage = new Storage(key, type.dtype, type.elementBytes, bytes);
        storages.put(key, storage);
        return storage;
    }

    private static Map<String, Stored> stateDict(Path file, Object root) {
        if (!(root instanceof Map<?, ?> map)) {
            throw new CheckpointException(file, "data.pkl holds no state dict (a dict of tensors)");
        }
        Map<String, Stored> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String name) || !(e.getValue() instanceof Unpickler.TensorRef t)) {
                throw new CheckpointException(file, "state dict entry " + e.getKey() + " is not a named tensor");
            }
            out.put(name, stored(file, name, t));
        }
        return Collections.unmodifiableMap(out);
    }

    private static Stored stored(Path file, String name, Unpickler.TensorRef t) {
        if (!(t.storage() instanceof Storage storage)) {
            throw new CheckpointException(file, "tensor " + name + ": its storage is not a persistent storage reference");
        }
        long[] shape = t.shape(), stride = t.stride();
        if (shape.length != stride.length) {
            throw new CheckpointException(file, "tensor " + name + ": shape " + Arrays.toString(shape) + " and stride "
                    + Arrays.toString(stride) + " differ in rank");
        }
        long storageElements = storage.bytes.byteSize() / storage.elementBytes;
        long elements = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] < 0 || (shape[i] > 0 && elements > storageElements / shape[i])) {
                throw new CheckpointException(file, "tensor " + name + ": shape " + Arrays.toString(shape)
                        + " does not fit its storage " + storage.key + " of " + storageElements + " elements");
            }
            if (shape[i] != 1 && stride[i] != elements) {
                throw new CheckpointException(file, "tensor " + name + ": stride " + Arrays.toString(stride)
                        + " is not contiguous for shape " + Arrays.toString(shape) + " (save a .contiguous() copy)");
            }
            elements *= shape[i];
        }
        if (t.offset() < 0 || t.offset() > storageElements - elements) {
            throw new CheckpointException(file, "tensor " + name + ": elements [" + t.offset() + ", "
                    + (t.offset() + elements) + ") lie outside its storage " + storage.key + " of " + storageElements);
        }
        MemorySegment bytes = storage.bytes.asSlice(t.offset() * storage.elementBytes, elements * storage.elementBytes);
        return new Stored(storage.dtype, shape, bytes);
    }

    @Override
    public Path file() {
        return file;
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public Tensor tensor(String name) {
        Stored s = tensors.get(name);
        if (s == null) throw new CheckpointException(file, "no tensor " + name);
        DType dtype = switch (s.dtype) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            default -> throw new CheckpointException(file, "unsupported dtype " + s.dtype + " for tensor " + name
                    + " (jgpt reads F32, F16 and BF16)");
        };
        return new Tensor(name, dtype, s.shape, s.bytes);
    }

    @Override
    public void close() {
        arena.close();
    }

    /** The stored entries of a zip archive, found through its central directory (ZIP64 included). */
    private record Zip(Path file, MemorySegment bytes) {
        Map<String, MemorySegment> entries() {
            long size = bytes.byteSize();
            if (size >= 2 && bytes.get(ValueLayout.JAVA_BYTE, 0) == (byte) 0x80) {
                throw new CheckpointException(file, "legacy (pre-1.6) torch.save format is not supported: re-save it "
                        + "with a recent torch.save, or convert it to safetensors");
            }
            if (size < 4 || u32(0) != LOCAL_HEADER) {
                throw new CheckpointException(file, "not a zip archive, so not a torch.save checkpoint");
            }
            long end = -1;
            for (long p = size - 22; p >= Math.max(0, size - 22 - 0xFFFF); p--) {
                if (u32(p) == END) {
                    end = p;
                    break;
                }
            }
            if (end < 0) throw new CheckpointException(file, "no zip end-of-central-directory record: truncated file?");
            long count = u16(end + 10), directorySize = u32(end + 12), directory = u32(end + 16);
            if (count == 0xFFFF || directorySize == 0xFFFFFFFFL || directory == 0xFFFFFFFFL) {
                if (end < 20 || u32(end - 20) != ZIP64_LOCATOR) throw corrupt("ZIP64 locator missing");
                long end64 = u64(end - 12);
                if (u32(end64) != ZIP64_END) throw corrupt("ZIP64 end record missing");
                count = u64(end64 + 32);
                directory = u64(end64 + 48);
            }
            Map<String, MemorySegment> entries = new LinkedHashMap<>();
            long p = directory;
            for (long i = 0; i < count; i++) {
                if (u32(p) != CENTRAL_HEADER) throw corrupt("central directory entry " + i + " missing");
                int method = u16(p + 10);
                long compressed = u32(p + 20), uncompressed = u32(p + 24), local = u32(p + 42);
                int nameLength = u16(p + 28), extraLength = u16(p + 30), commentLength = u16(p + 32);
                String name = new String(slice(p + 46, nameLength).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
                for (long x = p + 46 + nameLength, xEnd = x + extraLength; x + 4 <= xEnd; x += 4 + u16(x + 2)) {
                    if (u16(x) != 1) continue; // ZIP64 extra field: 64-bit values for the saturated 32-bit ones
                    long q = x + 4;
                    if (uncompressed == 0xFFFFFFFFL) { uncompressed = u64(q); q += 8; }
                    if (compressed == 0xFFFFFFFFL) { compressed = u64(q); q += 8; }
                    if (local == 0xFFFFFFFFL) local = u64(q);
                }
                if (method != 0) {
                    throw new CheckpointException(file, "zip entry " + name + " is compressed (method " + method
                            + "); torch.save stores entries uncompressed, which jgpt maps in place");
                }
                if (u32(local) != LOCAL_HEADER) throw corrupt("local header of entry " + name + " missing");
                long start = local + 30 + u16(local + 26) + u16(local + 28);
                if (start + uncompressed > size || uncompressed < 0) {
                    throw new CheckpointException(file, "zip entry " + name + " runs past the end of the file: truncated?");
                }
                entries.put(name, bytes.asSlice(start, uncompressed));
                p += 46 + nameLength + extraLength + commentLength;
            }
            return entries;
        }

        private MemorySegment slice(long at, long length) {
            if (at < 0 || length < 0 || at + length > bytes.byteSize()) throw corrupt("reads past the end of the file");
            return bytes.asSlice(at, length);
        }

        private int u16(long at) {
            return slice(at, 2).get(U16, 0) & 0xFFFF;
        }

        private long u32(long at) {
            return slice(at, 4).get(U32, 0) & 0xFFFFFFFFL;
        }

        private long u64(long at) {
            long v = slice(at, 8).get(U64, 0);
            if (v < 0) throw corrupt("64-bit size or offset out of range");
            return v;
        }

        private CheckpointException corrupt(String what) {
            return new CheckpointException(file, "corrupt or truncated zip archive: " + what);
        }
    }
}
