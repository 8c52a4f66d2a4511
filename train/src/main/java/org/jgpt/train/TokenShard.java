package org.jgpt.train;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.jgpt.io.AtomicFiles;

/**
 * One file of token ids in llm.c's shard format: a header of 256 little-endian int32 (magic 20240520, version 1,
 * token count), then the tokens as little-endian uint16. Read through a memory map, so corpora larger than the heap
 * work.
 */
public final class TokenShard implements AutoCloseable {
    static final int MAGIC = 20240520;
    static final int VERSION = 1;
    static final int HEADER_BYTES = 256 * 4;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final Arena arena;
    private final MemorySegment tokens;
    private final long count;

    private TokenShard(Path file, Arena arena, MemorySegment tokens, long count) {
        this.file = file;
        this.arena = arena;
        this.tokens = tokens;
        this.count = count;
    }

    /** Maps a shard, checking its header against its size. */
    public static TokenShard open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < HEADER_BYTES) throw new IOException(file + ": too short for a token shard header (" + size + " bytes)");
            MemorySegment all = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            int magic = all.get(I32, 0);
            int version = all.get(I32, 4);
            int count = all.get(I32, 8);
            if (magic != MAGIC) throw new IOException(file + ": not a token shard (magic " + magic + ", expected " + MAGIC + ")");
            if (version != VERSION) throw new IOException(file + ": unsupported token shard version " + version);
            if (count < 0 || HEADER_BYTES + 2L * count != size) {
                throw new IOException(file + ": header says " + count + " tokens but the file holds "
                        + (size - HEADER_BYTES) / 2 + " (truncated or corrupt)");
            }
            return new TokenShard(file, arena, all.asSlice(HEADER_BYTES), count);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Writes {@code tokens[0, count)} as a shard, atomically: a temporary file is renamed into place. */
    public static void write(Path file, int[] tokens, int count) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(MAGIC).putInt(VERSION).putInt(count);
        ByteBuffer body = ByteBuffer.allocate(2 * count).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            int t = tokens[i];
            if (t < 0 || t > 0xFFFF) throw new IllegalArgumentException("token id " + t + " does not fit in uint16");
            body.putShort((short) t);
        }
        AtomicFiles.write(file, temp -> {
            try (OutputStream out = Files.newOutputStream(temp)) {
                out.write(header.array());
                out.write(body.array());
            }
        });
    }

    public Path file() {
        return file;
    }

    public long size() {
        return count;
    }

    /** Token {@code i}, in {@code [0, 65535]}. */
    public int get(long i) {
        return Short.toUnsignedInt(tokens.getAtIndex(U16, i));
    }

    @Override
    public void close() {
        arena.close();
    }
}
