package org.jgpt.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jgpt.io.Checkpoints;
import org.jgpt.model.GPT2Weights;
import org.jgpt.tokenizer.GPT1Tokenizer;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.Tokenizer;

/** What a model directory holds: config.json and weights, and the tokenizer files when they are not GPT-2's own. */
record ModelDirectory(GPT2Weights weights, Tokenizer tokenizer) implements AutoCloseable {

    static ModelDirectory open(Path dir) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("model directory " + dir + " does not exist");
        GPT2Weights weights = Checkpoints.load(dir);
        Tokenizer tokenizer;
        if (weights.config().postLayerNorm()) {
            tokenizer = GPT1Tokenizer.fromDirectory(dir); // GPT-1: lower-cased word-level BPE, not byte-level
        } else if (Files.exists(dir.resolve("vocab.json")) || Files.exists(dir.resolve("merges.txt"))) {
            tokenizer = GPT2Tokenizer.fromDirectory(dir);
        } else if (weights.config().vocabSize() == 50257) {
            tokenizer = GPT2Tokenizer.gpt2();
        } else {
            throw new IllegalArgumentException(dir + " has no tokenizer files (vocab.json, merges.txt) and its vocabulary of "
                    + weights.config().vocabSize() + " tokens is not GPT-2's 50257");
        }
        if (tokenizer.vocabSize() > weights.config().vocabSize()) {
            throw new IllegalArgumentException(dir + ": the tokenizer has " + tokenizer.vocabSize()
                    + " tokens but the model only " + weights.config().vocabSize());
        }
        return new ModelDirectory(weights, tokenizer);
    }

    @Override
    public void close() throws Exception {
        weights.close();
    }
}
