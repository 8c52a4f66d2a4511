package org.jgpt.tokenizer;

import java.io.ByteArrayOutputStream;

/**
 * GPT-2's byte-to-unicode table: every byte gets a printable character, so that vocab.json and merges.txt can
 * spell any byte string as text. Printable Latin-1 bytes map to themselves; the others to U+0100 and up.
 */
final class ByteLevel {
    /** The bytes in GPT-2's order: printable ones first, then the rest. GPT-2's ids 0..255 follow this order. */
    static final int[] BYTE_ORDER = new int[256];
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[324];

    static {
        int n = 0;
        boolean[] printable = new boolean[256];
        for (int b = 0; b < 256; b++) {
            printable[b] = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            if (printable[b]) {
                BYTE_ORDER[n++] = b;
                BYTE_TO_CHAR[b] = (char) b;
            }
        }
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            if (!printable[b]) {
                BYTE_ORDER[n++] = b;
                BYTE_TO_CHAR[b] = (char) (256 + extra++);
            }
        }
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        for (int b = 0; b < 256; b++) CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
    }

    private ByteLevel() {}

    /** The text GPT-2's files use for a byte string. */
    static String toText(byte[] bytes) {
        char[] chars = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) chars[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(chars);
    }

    /** The byte string a vocab.json or merges.txt token spells, or null if it has a character outside the table. */
    static byte[] toBytes(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= CHAR_TO_BYTE.length || CHAR_TO_BYTE[c] < 0) return null;
            out.write(CHAR_TO_BYTE[c]);
        }
        return out.toByteArray();
    }
}
