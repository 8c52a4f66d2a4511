package org.jgpt.cli;

import java.util.Locale;
import picocli.CommandLine.Option;

/** The {@code --dtype} of the commands that load a GPT: q8_0 quantizes its matrices at load. */
final class DTypeOption {
    @Option(names = "--dtype", paramLabel = "q8_0", description = "q8_0: quantize the weight matrices and the token"
            + " embedding at load to 8-bit blocks (llama.cpp's Q8_0), a quarter of F32's bytes; LayerNorms, biases and"
            + " position embeddings stay as stored (default: the checkpoint's own dtype; a folder from `jgpt quantize`"
            + " is Q8_0 already).")
    String dtype;

    /** Whether the weights are to be quantized to Q8_0; refuses any other value. */
    boolean q8() {
        if (dtype == null) return false;
        if (dtype.toLowerCase(Locale.ROOT).equals("q8_0")) return true;
        throw new IllegalArgumentException("--dtype takes q8_0 (8-bit weights), not '" + dtype
                + "'; without it the weights keep the checkpoint's dtype");
    }
}
