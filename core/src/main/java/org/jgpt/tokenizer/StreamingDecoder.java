package org.jgpt.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Decodes ids one at a time, for streaming generation. A token can end in the middle of a UTF-8 character (an emoji
 * is often several tokens), so the bytes of an unfinished character wait until the next token completes it. The
 * text of all pushes plus {@link #flush()} equals {@link GPT2Tokenizer#decode} of all the ids (for GPT-1 before
 * its final trim). Not thread-safe.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Adds one id; returns the text its bytes complete, possibly "". */
    public String push(int id) {
        pending.writeBytes(tokenizer.tokenBytes(id));
        byte[] bytes = pending.toByteArray();
        int complete = completePrefix(bytes);
        pending.reset();
        pending.write(bytes, complete, bytes.length - complete);
        return new String(bytes, 0, complete, StandardCharsets.UTF_8);
    }

    /** Returns whatever is left, with U+FFFD for an unfinished character, and starts afresh. */
    public String flush() {
        String rest = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        return rest;
    }

    /**
     * The length of the prefix that can be decoded now: everything but a trailing lead byte still waiting for its
     * continuation bytes. Cutting just before a lead byte never changes how the bytes before it decode.
     */
    private static int completePrefix(byte[] bytes) {
        for (int i = bytes.length - 1; i >= Math.max(0, bytes.length - 3); i--) {
            int b = bytes[i] & 0xFF;
            if (b < 0x80) return bytes.length;
            if (b >= 0xC0) {
                int needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
                return bytes.length - i < needed ? i : bytes.length;
            }
        }
        return bytes.length;
    }
}
