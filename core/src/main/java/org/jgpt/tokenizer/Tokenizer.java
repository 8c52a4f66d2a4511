package org.jgpt.tokenizer;

import java.io.IOException;
import java.nio.file.Path;

/** What generation and scoring need of a tokenizer: GPT-2's byte-level BPE ({@link GPT2Tokenizer}) or GPT-1's. */
public interface Tokenizer {
    int[] encode(String text);

    String decode(int[] ids);

    /** The bytes one token contributes to the decoded text (UTF-8), for streaming. */
    byte[] tokenBytes(int id);

    int vocabSize();

    /** The end-of-text token's id; an IllegalStateException when the vocabulary has none (GPT-1's). */
    int endOfText();

    boolean hasEndOfText();

    /** Writes the tokenizer's files (vocab.json, merges.txt) into {@code dir}, so that a model folder carries them. */
    void save(Path dir) throws IOException;

    default StreamingDecoder newStreamingDecoder() {
        return new StreamingDecoder(this);
    }
}
