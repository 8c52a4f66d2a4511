package org.jgpt.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.function.LongConsumer;

/**
 * Reads the lines of a byte range of a UTF-8 file, so that one file can be read in parts by separate tasks and the
 * parts together give exactly the lines of {@link java.io.BufferedReader#readLine()}: a line ends at {@code \n},
 * {@code \r} or {@code \r\n}, and a range owns the lines that start inside it.
 */
public final class LineRanges {
    private LineRanges() {}

    /** Receives one line (without its terminator) and its 1-based number, or 0 when a range not at 0 cannot know it. */
    @FunctionalInterface
    public interface LineSink {
        void line(String line, long lineNumber) throws IOException;
    }

    /**
     * Sends each line that starts in {@code [start, end)} to {@code sink}, in order. {@code read} is told how many
     * bytes were read (for progress); it may be null.
     */
    public static void forEachLine(Path file, long start, long end, LongConsumer read, LineSink sink) throws IOException {
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long position = Math.max(0, start - 1);
            channel.position(position);
            ByteBuffer chunk = ByteBuffer.allocate(1 << 16);
            byte[] line = new byte[256];
            int length = 0;
            long lineStart = 0;
            long lineNumber = start == 0 ? 1 : 0;
            boolean atLineStart = start == 0; // the next byte begins a line
            boolean afterCarriageReturn = false;
            int n;
            while ((n = channel.read(chunk.clear())) > 0) {
                if (read != null) read.accept(n);
                byte[] bytes = chunk.array();
                for (int i = 0; i < n; i++) {
                    byte b = bytes[i];
                    long at = position++;
                    if (afterCarriageReturn) {
                        afterCarriageReturn = false;
                        if (b == '\n') continue; // the second byte of "\r\n"
                    }
                    if (atLineStart) {
                        if (at >= end) return;
                        if (at >= start) {
                            lineStart = at;
                            atLineStart = false;
                            length = 0;
                        }
                    }
                    if (b == '\n' || b == '\r') {
                        if (!atLineStart && lineStart >= start) {
                            sink.line(decode(utf8, line, length, file, lineStart), lineNumber);
                            if (lineNumber > 0) lineNumber++;
                        }
                        atLineStart = true;
                        afterCarriageReturn = b == '\r';
                    } else if (!atLineStart && lineStart >= start) {
                        if (length == line.length) line = Arrays.copyOf(line, 2 * length);
                        line[length++] = b;
                    }
                }
            }
            if (!atLineStart && lineStart >= start && lineStart < end) {
                sink.line(decode(utf8, line, length, file, lineStart), lineNumber);
            }
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file");
        }
    }

    private static String decode(CharsetDecoder utf8, byte[] bytes, int length, Path file, long offset) throws IOException {
        try {
            return utf8.decode(ByteBuffer.wrap(bytes, 0, length)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(file + " is not valid UTF-8 (the line at byte " + offset + ")");
        }
    }
}
