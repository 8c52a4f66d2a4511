package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shard file format, byte for byte as llm.c writes it. */
class TokenShardTest {
    @TempDir
    Path dir;

    @Test
    void writesLlmCHeaderAndLittleEndianUint16Tokens() throws IOException {
        Path file = dir.resolve("s.bin");
        TokenShard.write(file, new int[] {0, 1, 50256, 65535, 7}, 4);
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1024 + 8, bytes.capacity());
        assertEquals(20240520, bytes.getInt(0));
        assertEquals(1, bytes.getInt(4));
        assertEquals(4, bytes.getInt(8));
        assertEquals(50256, Short.toUnsignedInt(bytes.getShort(1024 + 4)));
        try (TokenShard shard = TokenShard.open(file)) {
            assertEquals(4, shard.size());
            assertEquals(65535, shard.get(3));
            assertEquals(0, shard.get(0));
        }
    }

    @Test
    void rejectsIdsBeyondUint16() {
        assertThrows(IllegalArgumentException.class, () -> TokenShard.write(dir.resolve("x.bin"), new int[] {65536}, 1));
    }

    @Test
    void truncatedOrForeignFilesAreRefusedByName() throws IOException {
        Path file = dir.resolve("t.bin");
        TokenShard.write(file, new int[] {1, 2, 3}, 3);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 1));
        IOException truncated = assertThrows(IOException.class, () -> TokenShard.open(file));
        assertTrue(truncated.getMessage().contains("t.bin") && truncated.getMessage().contains("truncated"), truncated.getMessage());

        Path foreign = dir.resolve("f.bin");
        Files.write(foreign, new byte[2048]);
        IOException magic = assertThrows(IOException.class, () -> TokenShard.open(foreign));
        assertTrue(magic.getMessage().contains("f.bin") && magic.getMessage().contains("magic"), magic.getMessage());
    }
}
