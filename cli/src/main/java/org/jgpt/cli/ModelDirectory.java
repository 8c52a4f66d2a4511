package org.jgpt.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jgpt.io.Checkpoints;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Weights;
import org.jgpt.tokenizer.GPT1Tokenizer;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.Tokenizer;
import org.jgpt.train.EncoderFolder;
import org.jgpt.train.PermutationEncoder;

/** What a model directory holds: config.json and weights, and the tokenizer files when they are not GPT-2's own. */
record ModelDirectory(GPT2Weights weights, Tokenizer tokenizer) implements AutoCloseable {

    /** Where the built-in demo model lives: {@code models/demo} under the installation ({@code -Djgpt.home}). */
    static Path builtInModel() {
        return Path.of(System.getProperty("jgpt.home", "."), "models", "demo");
    }

    /** {@code dir}, or the built-in demo model when no {@code --model} was given. */
    static ModelDirectory openOrBuiltIn(Path dir) {
        return openOrBuiltIn(dir, false);
    }

    /** {@link #openOrBuiltIn(Path)}, the matrices quantized to Q8_0 if {@code q8}. */
    static ModelDirectory openOrBuiltIn(Path dir, boolean q8) {
        if (dir != null) return open(dir, q8);
        Path builtIn = builtInModel();
        if (!Files.isDirectory(builtIn)) {
            throw new IllegalArgumentException("no --model given and the built-in demo model is missing at " + builtIn
                    + "; pass --model DIR (a Hugging Face GPT-2 folder)");
        }
        return open(builtIn, q8);
    }

    /** Whether {@code dir} holds an encoder (config.json with model_type roberta or electra) rather than a GPT. */
    static boolean isEncoder(Path dir) {
        return EncoderFolder.describes(dir);
    }

    /**
     * An error when {@code dir} holds an encoder rather than a GPT, that says which kind and which commands take it;
     * {@code refusal} says what the command cannot do with it, e.g. "does not generate or score text".
     */
    static void requireGpt(Path dir, String refusal) {
        if (!isEncoder(dir)) return;
        String what = switch (EncoderFolder.of(dir).kind()) {
            case ROBERTA -> PermutationEncoder.savedIn(dir)
                    ? "a permutation-LM encoder ('jgpt train --objective plm'), which " + refusal + ": this command needs"
                            + " a GPT; finetune takes its RoBERTa body"
                    : "a RoBERTa encoder, which " + refusal + ": this command needs a GPT; encoders take fill-mask,"
                            + " finetune, classify, and train --init with an encoder objective (mlm, simcse, ...)";
            case ELECTRA -> "an ELECTRA model, which " + refusal + ": this command needs a GPT; ELECTRA models take"
                    + " finetune and classify";
        };
        throw new IllegalArgumentException(dir + " is " + what);
    }

    static ModelDirectory open(Path dir) {
        return open(dir, false);
    }

    /** {@link #open(Path)}, the matrices quantized to Q8_0 at load if {@code q8} (and not already). */
    static ModelDirectory open(Path dir, boolean q8) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("model directory " + dir + " does not exist");
        requireGpt(dir, "does not generate or score text");
        GPT2Weights weights = Checkpoints.load(dir);
        try {
            Tokenizer tokenizer = tokenizer(dir, weights.config());
            return new ModelDirectory(q8 ? weights.quantizeQ8() : weights, tokenizer);
        } catch (RuntimeException e) {
            try {
                weights.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private static Tokenizer tokenizer(Path dir, GPT2Config config) {
        int modelVocab = config.vocabSize();
        Tokenizer tokenizer;
        if (config.postLayerNorm()) {
            tokenizer = GPT1Tokenizer.fromDirectory(dir); // GPT-1: lower-cased word-level BPE, not byte-level
        } else if (Files.exists(dir.resolve("vocab.json")) || Files.exists(dir.resolve("merges.txt"))) {
            tokenizer = GPT2Tokenizer.fromDirectory(dir);
        } else if (modelVocab == 50257) {
            tokenizer = GPT2Tokenizer.gpt2();
        } else {
            throw new IllegalArgumentException(dir + " has no tokenizer files (vocab.json, merges.txt) and its vocabulary of "
                    + modelVocab + " tokens is not GPT-2's 50257");
        }
        if (tokenizer.vocabSize() > modelVocab) {
            throw new IllegalArgumentException(dir + ": the tokenizer has " + tokenizer.vocabSize()
                    + " tokens but the model only " + modelVocab);
        }
        return tokenizer;
    }

    @Override
    public void close() throws Exception {
        weights.close();
    }
}
