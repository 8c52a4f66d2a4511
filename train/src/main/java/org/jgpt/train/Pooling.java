package org.jgpt.train;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import org.jgpt.io.Json;

/**
 * How an encoder's output becomes one vector per sequence: the mean over the sequence's tokens (padding left out,
 * {@code <s>} and {@code </s>} in, as sentence-transformers' mean pooling over the attention mask), or the output at
 * {@code <s>}. A sentence encoder's config.json names it under {@link #CONFIG_KEY}, which transformers ignores.
 */
public enum Pooling {
    MEAN, CLS;

    /** The config.json key: {@code "jgpt_pooling": "mean"} or {@code "cls"}. */
    public static final String CONFIG_KEY = "jgpt_pooling";

    /** "mean" or "cls". */
    public static Pooling parse(String name) {
        return switch (name) {
            case "mean" -> MEAN;
            case "cls" -> CLS;
            default -> throw new IllegalArgumentException("unknown pooling '" + name + "': choose mean or cls");
        };
    }

    /** The pooling named by {@code dir}'s config.json, if it names one. */
    public static Optional<Pooling> of(Path dir) {
        Path configJson = dir.resolve("config.json");
        Object name = Json.parseFile(configJson).get(CONFIG_KEY);
        if (name == null) return Optional.empty();
        if (!(name instanceof String text)) throw new IllegalArgumentException(configJson + ": " + CONFIG_KEY + " must be a string");
        return Optional.of(parse(text));
    }

    /** The name in config.json and on the command line. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code out[b]} ([batch × dim]) pools rows b × seqLen ... of {@code hidden}, sequence b having {@code lengths[b]} tokens. */
    void pool(float[] hidden, int[] lengths, int batch, int seqLen, int dim, float[] out) {
        for (int b = 0; b < batch; b++) {
            int first = b * seqLen * dim;
            if (this == CLS) {
                System.arraycopy(hidden, first, out, b * dim, dim);
                continue;
            }
            Arrays.fill(out, b * dim, (b + 1) * dim, 0f);
            for (int t = 0; t < lengths[b]; t++) {
                for (int i = 0; i < dim; i++) out[b * dim + i] += hidden[first + t * dim + i];
            }
            for (int i = 0; i < dim; i++) out[b * dim + i] /= lengths[b];
        }
    }

    /** The gradient of {@code hidden} ([batch × seqLen × dim], overwritten) from that of the pooled vectors. */
    void backward(float[] dPooled, int[] lengths, int batch, int seqLen, int dim, float[] dHidden) {
        Arrays.fill(dHidden, 0, batch * seqLen * dim, 0f);
        for (int b = 0; b < batch; b++) {
            int first = b * seqLen * dim;
            if (this == CLS) {
                System.arraycopy(dPooled, b * dim, dHidden, first, dim);
                continue;
            }
            for (int t = 0; t < lengths[b]; t++) {
                for (int i = 0; i < dim; i++) dHidden[first + t * dim + i] = dPooled[b * dim + i] / lengths[b];
            }
        }
    }
}
