package org.jgpt.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jgpt.kernel.DType;
import org.jgpt.kernel.Tensor;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header mapping each tensor name to its
 * dtype, shape and byte range {@code data_offsets} (relative to the end of the header), then the raw little-endian
 * data. {@link #open} memory-maps a file and validates the whole header before anything is read, so that no tensor
 * can reach past the file's end; {@link #write} writes a file atomically.
 */
public final class Safetensors implements TensorFile {
    /** Element sizes of every dtype the format defines; jgpt computes with F32, F16 and BF16, and reads I8 Q8_0 quants. */
    private static final Map<String, Integer> DTYPE_BYTES = Map.ofEntries(
            Map.entry("BOOL", 1), Map.entry("U8", 1), Map.entry("I8", 1), Map.entry("F8_E4M3", 1),
            Map.entry("F8_E5M2", 1), Map.entry("I16", 2), Map.entry("U16", 2), Map.entry("F16", 2),
            Map.entry("BF16", 2), Map.entry("I32", 4), Map.entry("U32", 4), Map.entry("F32", 4),
            Map.entry("I64", 8), Map.entry("U64", 8), Map.entry("F64", 8));
    private static final long MAX_HEADER_BYTES = 100L << 20; // as the reference implementation
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** One header entry: {@code dtype} as the file names it, {@code [begin, end)} the bytes in the data section. */
    public record Entry(String name, String dtype, long[] shape, long begin, long end) {
        public Entry {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }
    }

    private final Path file;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private Safetensors(Path file, Arena arena, MemorySegment data, Map<String, Entry> entries,
                        Map<String, String> metadata) {
        this.file = file;
        this.arena = arena;
        this.data = data;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Memory-maps and validates a safetensors file. */
    public static Safetensors open(Path file) {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw new CheckpointException(file, "truncated: " + size + " bytes, shorter than the 8-byte header length");
            }
            MemorySegment whole = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLength = whole.get(U64, 0);
            if (headerLength < 0 || headerLength > size - 8) {
                throw new CheckpointException(file, "header length " + Long.toUnsignedString(headerLength)
                        + " runs past the end of the file (" + size + " bytes): truncated or not safetensors");
            }
            if (headerLength > MAX_HEADER_BYTES) {
                throw new CheckpointException(file, "header of " + headerLength + " bytes is larger than the "
                        + MAX_HEADER_BYTES + " allowed");
            }
            Map<String, Object> header = parseHeader(file, whole.asSlice(8, headerLength));
            MemorySegment data = whole.asSlice(8 + headerLength);
            Map<String, String> metadata = metadata(file, header.remove("__metadata__"));
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : header.entrySet()) {
                entries.put(e.getKey(), entry(file, e.getKey(), e.getValue(), data.byteSize()));
            }
            checkTiling(file, entries.values(), data.byteSize());
            return new Safetensors(file, arena, data, Collections.unmodifiableMap(entries), metadata);
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Map<String, Object> parseHeader(Path file, MemorySegment bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .decode(ByteBuffer.wrap(bytes.toArray(ValueLayout.JAVA_BYTE))).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(file, "header is not valid UTF-8", e);
        }
        try {
            return Json.parseObject(text);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, "header is not a JSON object: " + e.getMessage(), e);
        }
    }

    private static Map<String, String> metadata(Path file, Object value) {
        if (value == null) return Map.of();
        if (!(value instanceof Map<?, ?> map)) throw new CheckpointException(file, "__metadata__ is not an object");
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new CheckpointException(file, "__metadata__ value of '" + e.getKey() + "' is not a string");
            }
            metadata.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static Entry entry(Path file, String name, Object value, long dataBytes) {
        if (!(value instanceof Map<?, ?> map)) {
            throw new CheckpointException(file, "tensor " + name + ": header entry is not an object");
        }
        if (!(map.get("dtype") instanceof String dtype)) {
            throw new CheckpointException(file, "tensor " + name + ": dtype missing or not a string");
        }
        Integer elementBytes = DTYPE_BYTES.get(dtype);
        if (elementBytes == null) throw new CheckpointException(file, "tensor " + name + ": unknown dtype " + dtype);
        long[] shape = longs(file, name, "shape", map.get("shape"));
        long[] offsets = longs(file, name, "data_offsets", map.get("data_offsets"));
        if (offsets.length != 2 || offsets[0] > offsets[1]) {
            throw new CheckpointException(file, "tensor " + name + ": data_offsets " + Arrays.toString(offsets)
                    + " is not a [begin, end] pair");
        }
        if (offsets[1] > dataBytes) {
            throw new CheckpointException(file, "tensor " + name + ": data_offsets " + Arrays.toString(offsets)
                    + " run past the end of the data (" + dataBytes + " bytes after the header): truncated file?");
        }
        long needed;
        try {
            needed = elementBytes;
            for (long d : shape) needed = Math.multiplyExact(needed, d);
        } catch (ArithmeticException e) {
            throw new CheckpointException(file, "tensor " + name + ": shape " + Arrays.toString(shape) + " is too large");
        }
        if (offsets[1] - offsets[0] != needed) {
            throw new CheckpointException(file, "tensor " + name + ": data_offsets " + Arrays.toString(offsets)
                    + " hold " + (offsets[1] - offsets[0]) + " bytes but shape " + Arrays.toString(shape) + " of "
                    + dtype + " needs " + needed);
        }
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] longs(Path file, String name, String key, Object value) {
        if (!(value instanceof List<?> list)) {
            throw new CheckpointException(file, "tensor " + name + ": " + key + " missing or not an array");
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long n) || n < 0) {
                throw new CheckpointException(file, "tensor " + name + ": " + key + " " + list
                        + " holds something other than a non-negative integer");
            }
            out[i] = n;
        }
        return out;
    }

    /**
     * The tensors must tile the data section exactly, as the reference implementation requires: in offset order,
     * each begins where the one before it ended, and the last ends at the end of the file. A gap or trailing bytes
     * mean a damaged or hand-edited header (a tensor listed twice, say, loses its first entry).
     */
    private static void checkTiling(Path file, Iterable<Entry> entries, long dataBytes) {
        List<Entry> sorted = new ArrayList<>();
        entries.forEach(sorted::add);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        Entry previous = null;
        long end = 0;
        for (Entry e : sorted) {
            if (e.begin < end) {
                throw new CheckpointException(file, "tensors " + previous.name + " and " + e.name + " overlap (data_offsets ["
                        + previous.begin + ", " + previous.end + "] and [" + e.begin + ", " + e.end + "])");
            }
            if (e.begin > end) {
                throw new CheckpointException(file, "tensor " + e.name + " begins at byte " + e.begin + " of the data, but "
                        + (previous == null ? "no tensor" : "tensor " + previous.name) + " ends at byte " + end
                        + ": the " + (e.begin - end) + " bytes between belong to no tensor (damaged header?)");
            }
            previous = e;
            end = e.end;
        }
        if (end != dataBytes) {
            throw new CheckpointException(file, "the tensors end at byte " + end + " of the data, but it holds "
                    + dataBytes + " bytes: the last " + (dataBytes - end) + " belong to no tensor (damaged header?)");
        }
    }

    @Override
    public Path file() {
        return file;
    }

    @Override
    public Set<String> names() {
        return entries.keySet();
    }

    /** The header entry of a tensor (any dtype), or null. */
    public Entry entry(String name) {
        return entries.get(name);
    }

    /** The {@code __metadata__} strings (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public Tensor tensor(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new CheckpointException(file, "no tensor " + name);
        DType dtype = switch (e.dtype) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "I8" -> DType.I8;
            default -> throw new CheckpointException(file, "unsupported dtype " + e.dtype + " for tensor " + name
                    + " (jgpt reads F32, F16, BF16 and I8)");
        };
        return new Tensor(name, dtype, e.shape, data.asSlice(e.begin, e.end - e.begin));
    }

    @Override
    public void close() {
        arena.close();
    }

    /** Writes tensors in their own dtypes; see {@link #write(Path, List, DType, Map)}. */
    public static void write(Path file, List<Tensor> tensors, Map<String, String> metadata) {
        write(file, tensors, null, metadata);
    }

    /**
     * Writes tensors, converted to {@code dtype} (null: each keeps its own), with {@code metadata} as
     * {@code __metadata__}. Atomic: the data goes to a temporary file in the same folder, renamed over {@code file}
     * when complete, so a failure leaves no half-written file.
     */
    public static void write(Path file, List<Tensor> tensors, DType dtype, Map<String, String> metadata) {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) header.put("__metadata__", metadata);
        Set<String> names = new HashSet<>();
        long offset = 0;
        for (Tensor t : tensors) {
            if (t.name().equals("__metadata__") || !names.add(t.name())) {
                throw new IllegalArgumentException("cannot write tensor name '" + t.name() + "' twice or as __metadata__");
            }
            DType out = dtype == null ? t.dtype() : dtype;
            long bytes = t.size() * out.bytes;
            header.put(t.name(), Map.of("dtype", out.name(), "shape", t.shape(), "data_offsets",
                    new long[] {offset, offset + bytes}));
            offset += bytes;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // the reference implementation pads the header with spaces to 8 bytes
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();

        try {
            AtomicFiles.write(file, tmp -> {
                try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                    while (head.hasRemaining()) channel.write(head);
                    TensorWriter writer = new TensorWriter(channel);
                    for (Tensor t : tensors) writer.write(t, dtype == null ? t.dtype() : dtype);
                    writer.flush();
                    channel.force(false);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Streams tensor elements to a channel through one buffer, converting dtypes on the way. */
    private static final class TensorWriter {
        private final FileChannel channel;
        private final byte[] bytes = new byte[1 << 20];
        private final ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);

        TensorWriter(FileChannel channel) {
            this.channel = channel;
        }

        void write(Tensor t, DType out) throws IOException {
            if (out == t.dtype()) {
                MemorySegment src = t.data();
                for (long pos = 0; pos < src.byteSize(); ) {
                    if (!buffer.hasRemaining()) flush();
                    int n = (int) Math.min(buffer.remaining(), src.byteSize() - pos);
                    MemorySegment.copy(src, pos, MemorySegment.ofArray(bytes), buffer.position(), n);
                    buffer.position(buffer.position() + n);
                    pos += n;
                }
                return;
            }
            if (out == DType.I8 || t.dtype() == DType.I8) {
                throw new IllegalArgumentException("cannot convert tensor " + t + " to " + out + ": I8 holds Q8_0 quants");
            }
            for (long i = 0, n = t.size(); i < n; i++) {
                if (buffer.remaining() < 4) flush();
                float x = t.get(i);
                switch (out) {
                    case F32 -> buffer.putFloat(x);
                    case F16 -> buffer.putShort(Float.floatToFloat16(x));
                    case BF16 -> buffer.putShort(toBFloat16(x));
                }
            }
        }

        void flush() throws IOException {
            buffer.flip();
            while (buffer.hasRemaining()) channel.write(buffer);
            buffer.clear();
        }
    }

    /** Rounds a float to bfloat16 bits, to nearest even as PyTorch does (NaN stays NaN). */
    public static short toBFloat16(float x) {
        if (Float.isNaN(x)) return (short) 0x7FC0;
        int bits = Float.floatToRawIntBits(x);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }
}
