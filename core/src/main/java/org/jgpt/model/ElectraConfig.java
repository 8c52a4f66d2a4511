package org.jgpt.model;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;

/**
 * An ELECTRA encoder's hyper-parameters in Hugging Face's form ({@code model_type: electra}): BERT's post-LayerNorm
 * blocks over embeddings {@code embeddingSize} wide, projected to {@code hiddenSize} by {@code embeddings_project}
 * when the two differ (ELECTRA-small: 128 and 256). Unlike RoBERTa, positions count from 0 whatever the padding, so
 * {@code max_position_embeddings} is the longest sequence.
 *
 * @param hiddenAct "gelu" (exact, erf-based; ELECTRA's) or "gelu_new" (GPT-2's tanh approximation)
 */
public record ElectraConfig(
        int vocabSize,
        int embeddingSize,
        int hiddenSize,
        int numLayers,
        int numHeads,
        int intermediateSize,
        String hiddenAct,
        int maxPositionEmbeddings,
        int typeVocabSize,
        float layerNormEps,
        int padTokenId) {

    public static final String MODEL_TYPE = "electra";
    private static final List<String> ACTIVATIONS = List.of("gelu", "gelu_new");

    public ElectraConfig {
        if (vocabSize <= 0 || embeddingSize <= 0 || hiddenSize <= 0 || numLayers <= 0 || numHeads <= 0
                || intermediateSize <= 0 || maxPositionEmbeddings <= 0 || typeVocabSize <= 0) {
            throw new IllegalArgumentException("ELECTRA config sizes must be positive: " + this);
        }
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hidden_size (" + hiddenSize + ") must be divisible by num_attention_heads ("
                    + numHeads + ")");
        }
        if (!ACTIVATIONS.contains(hiddenAct)) {
            throw new IllegalArgumentException("unsupported hidden_act '" + hiddenAct + "' (jgpt runs " + ACTIVATIONS + ")");
        }
        if (padTokenId < 0 || padTokenId >= vocabSize) {
            throw new IllegalArgumentException("pad_token_id " + padTokenId + " is outside the vocabulary of " + vocabSize);
        }
    }

    /**
     * ELECTRA's other settings for sequences of up to {@code maxLength} tokens: intermediate 4 × hidden, exact GELU,
     * two token types, LayerNorm eps 1e-12; {@code padTokenId} is the vocabulary's (RoBERTa's {@code <pad>} is 1).
     */
    public static ElectraConfig of(int vocabSize, int maxLength, int embeddingSize, int hiddenSize, int numLayers,
                                   int numHeads, int padTokenId) {
        return new ElectraConfig(vocabSize, embeddingSize, hiddenSize, numLayers, numHeads, 4 * hiddenSize, "gelu",
                maxLength, 2, 1e-12f, padTokenId);
    }

    /** ELECTRA-small's discriminator (google/electra-small-discriminator: 12 × 256, 4 heads, embeddings 128). */
    public static ElectraConfig small(int vocabSize, int padTokenId) {
        return new ElectraConfig(vocabSize, 128, 256, 12, 4, 1024, "gelu", 512, 2, 1e-12f, padTokenId);
    }

    /**
     * The generator of this discriminator, as the ELECTRA paper sizes it: the same depth and embeddings, with hidden
     * size, feed-forward size and heads multiplied by {@code widthRatio} (1/4 for ELECTRA-small: 64 wide, 1 head,
     * feed-forward 256). A generator wider than the discriminator is refused: ELECTRA's generator is the smaller model.
     */
    public ElectraConfig generator(double widthRatio) {
        requireGeneratorRatio(widthRatio);
        int hidden = (int) Math.round(hiddenSize * widthRatio);
        int heads = Math.max(1, (int) Math.round(numHeads * widthRatio));
        int intermediate = (int) Math.round(intermediateSize * widthRatio);
        if (hidden < 1 || intermediate < 1 || hidden % heads != 0) {
            throw new IllegalArgumentException("a generator width ratio of " + widthRatio + " of hidden size " + hiddenSize
                    + " and " + numHeads + " heads gives " + hidden + " wide, " + heads + " heads: choose a ratio that"
                    + " leaves whole heads");
        }
        return new ElectraConfig(vocabSize, embeddingSize, hidden, numLayers, heads, intermediate, hiddenAct,
                maxPositionEmbeddings, typeVocabSize, layerNormEps, padTokenId);
    }

    /** Refuses a generator width ratio outside (0, 1]. */
    public static void requireGeneratorRatio(double widthRatio) {
        if (!(widthRatio > 0)) throw new IllegalArgumentException("the generator width ratio must be positive: " + widthRatio);
        if (widthRatio > 1) {
            throw new IllegalArgumentException("the generator width ratio " + widthRatio + " would make the generator wider"
                    + " than the discriminator: ELECTRA's generator is at most as wide (1/4 by default)");
        }
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** The longest sequence the position table covers. */
    public int maxLength() {
        return maxPositionEmbeddings;
    }

    public boolean exactGelu() {
        return hiddenAct.equals("gelu");
    }

    /** Whether its embeddings need {@code embeddings_project} to reach the hidden size. */
    public boolean projectsEmbeddings() {
        return embeddingSize != hiddenSize;
    }

    /** Whether a {@code config.json} describes an ELECTRA model. */
    public static boolean describes(Path configJson) {
        return MODEL_TYPE.equals(Json.parseFile(configJson).get("model_type"));
    }

    /** Reads a Hugging Face ELECTRA {@code config.json}; errors name the file. */
    public static ElectraConfig load(Path configJson) {
        Map<String, Object> json = Json.parseFile(configJson);
        try {
            return fromMap(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configJson + ": " + e.getMessage(), e);
        }
    }

    /** The model keys of an ELECTRA config; absent keys take ElectraConfig's defaults (ELECTRA-small's). */
    public static ElectraConfig fromMap(Map<String, Object> m) {
        if (!MODEL_TYPE.equals(m.get("model_type"))) {
            throw new IllegalArgumentException("model_type is " + m.get("model_type") + ", expected " + MODEL_TYPE);
        }
        if (m.containsKey("position_embedding_type") && !"absolute".equals(m.get("position_embedding_type"))) {
            throw new IllegalArgumentException("unsupported position_embedding_type " + m.get("position_embedding_type"));
        }
        return new ElectraConfig(Json.integer(m, "vocab_size", 30522), Json.integer(m, "embedding_size", 128),
                Json.integer(m, "hidden_size", 256), Json.integer(m, "num_hidden_layers", 12), Json.integer(m, "num_attention_heads", 4),
                Json.integer(m, "intermediate_size", 1024), m.get("hidden_act") instanceof String s ? s : "gelu",
                Json.integer(m, "max_position_embeddings", 512), Json.integer(m, "type_vocab_size", 2),
                m.get("layer_norm_eps") instanceof Number n ? n.floatValue() : 1e-12f, Json.integer(m, "pad_token_id", 0));
    }

    /**
     * A {@code config.json} that transformers opens as {@code architecture} (ElectraForPreTraining,
     * ElectraForMaskedLM), with {@code extra} keys after the model's own; the keys of google/electra-small-*.
     */
    public String toJson(String architecture, Map<String, Object> extra) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", List.of(architecture));
        m.put("attention_probs_dropout_prob", 0.1);
        m.put("embedding_size", embeddingSize);
        m.put("hidden_act", hiddenAct);
        m.put("hidden_dropout_prob", 0.1);
        m.put("hidden_size", hiddenSize);
        m.put("initializer_range", 0.02);
        m.put("intermediate_size", intermediateSize);
        m.put("layer_norm_eps", Double.parseDouble(Float.toString(layerNormEps)));
        m.put("max_position_embeddings", maxPositionEmbeddings);
        m.put("model_type", MODEL_TYPE);
        m.put("num_attention_heads", numHeads);
        m.put("num_hidden_layers", numLayers);
        m.put("pad_token_id", padTokenId);
        m.put("position_embedding_type", "absolute");
        m.put("torch_dtype", "float32");
        m.put("type_vocab_size", typeVocabSize);
        m.put("vocab_size", vocabSize);
        m.putAll(extra);
        return Json.write(m) + "\n";
    }

    /** The shape in words, for logs and run headers. */
    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "ELECTRA, %d layers × %d wide, %d heads, feed-forward %d, embeddings %d wide,"
                + " %d positions, vocabulary %,d", numLayers, hiddenSize, numHeads, intermediateSize, embeddingSize,
                maxPositionEmbeddings, vocabSize);
    }
}
