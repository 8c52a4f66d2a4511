package org.jgpt.train;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.jgpt.model.EncoderConfig;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.RobertaTokens;

/**
 * Texts to sentence embeddings with a saved encoder: each text is framed {@code <s> text </s>} (cut to the encoder's
 * longest sequence), run with dropout off and pooled as the folder's config.json says ({@link Pooling}). Texts are
 * run in batches of similar length, padded to a power of two, so that a short text does not pay for a long one; the
 * batch shapes share one copy of the weights.
 */
public final class SentenceEncoder {
    /** Activations one forward may hold (floats, about 256 MB): this bounds the tokens per batch. */
    private static final long ACTIVATION_FLOATS = 64L << 20;
    private static final int SHORTEST_PADDING = 8;

    /** A text's vector and the tokens it took, {@code <s>} and {@code </s>} included. */
    public record Embedding(float[] vector, int tokens) {}

    private final TrainableEncoder weights;
    private final GPT2Tokenizer tokenizer;
    private final RobertaTokens special;
    private final Pooling pooling;

    private SentenceEncoder(TrainableEncoder weights, GPT2Tokenizer tokenizer, Pooling pooling) {
        this.weights = weights;
        this.tokenizer = tokenizer;
        this.special = RobertaTokens.of(tokenizer);
        this.pooling = pooling;
    }

    /** The sentence encoder saved in {@code dir}; an error if its config.json names no pooling. */
    public static SentenceEncoder open(Path dir) {
        TrainableEncoder.requireEncoder(dir);
        Pooling pooling = Pooling.of(dir).orElseThrow(() -> new IllegalArgumentException(dir + " names no pooling"
                + " (config.json has no " + Pooling.CONFIG_KEY + "): it is not a sentence encoder; train one with"
                + " 'jgpt train --objective simcse' or '--objective contrastive-pairs'"));
        return open(dir, pooling);
    }

    /** Any encoder saved in {@code dir} (a masked-LM one too: its heads are not read), pooled by {@code pooling}. */
    public static SentenceEncoder open(Path dir, Pooling pooling) {
        EncoderConfig config = EncoderConfig.load(TrainableEncoder.requireEncoder(dir));
        TrainableEncoder weights = new TrainableEncoder(config, TrainableEncoder.Heads.none(), 1, 1, 0f);
        weights.loadPretrained(dir, false);
        return new SentenceEncoder(weights, GPT2Tokenizer.fromDirectory(dir), pooling);
    }

    /** {@code <s> ids </s>}, the ids cut to leave {@code maxLength} tokens in all. */
    static int[] frame(RobertaTokens special, int[] ids, int maxLength) {
        return special.frame(ids.length > maxLength - 2 ? Arrays.copyOf(ids, maxLength - 2) : ids);
    }

    public Pooling pooling() {
        return pooling;
    }

    /** The texts' embeddings, in their order. */
    public List<Embedding> embed(List<String> texts) {
        EncoderConfig config = weights.config();
        int maxLength = config.maxLength();
        int[][] framed = texts.stream().map(t -> frame(special, tokenizer.encode(t), maxLength)).toArray(int[][]::new);
        Integer[] byLength = IntStream.range(0, framed.length).boxed().sorted(Comparator.comparingInt(i -> framed[i].length))
                .toArray(Integer[]::new);
        Embedding[] out = new Embedding[framed.length];
        int c = config.hiddenSize();
        for (int start = 0; start < byLength.length; ) {
            int padded = padding(framed[byLength[start]].length, maxLength);
            int budget = (int) Math.max(1, ACTIVATION_FLOATS / activationFloats(config, padded));
            int end = start;
            while (end < byLength.length && end - start < budget && padding(framed[byLength[end]].length, maxLength) == padded) end++;
            int batch = end - start;
            int[] inputs = new int[batch * padded];
            Arrays.fill(inputs, special.pad());
            int[] lengths = new int[batch];
            for (int b = 0; b < batch; b++) {
                int[] ids = framed[byLength[start + b]];
                System.arraycopy(ids, 0, inputs, b * padded, ids.length);
                lengths[b] = ids.length;
            }
            float[] hidden = weights.reshaped(batch, padded, 0f).encode(inputs, lengths, false, 0);
            float[] pooled = new float[batch * c];
            pooling.pool(hidden, lengths, batch, padded, c, pooled);
            for (int b = 0; b < batch; b++) {
                out[byLength[start + b]] = new Embedding(Arrays.copyOfRange(pooled, b * c, (b + 1) * c), lengths[b]);
            }
            start = end;
        }
        return List.of(out);
    }

    /** Roughly the floats a training-shaped forward keeps per sequence of {@code padded} tokens. */
    private static long activationFloats(EncoderConfig config, int padded) {
        long perToken = 14L * config.hiddenSize() + 2L * config.intermediateSize() + 2L * config.numHeads() * padded;
        return padded * config.numLayers() * perToken;
    }

    /** The padded length of a batch whose longest sequence has {@code length} tokens. */
    private static int padding(int length, int maxLength) {
        return Math.min(maxLength, Math.max(SHORTEST_PADDING, Integer.highestOneBit(length - 1) << 1));
    }
}
