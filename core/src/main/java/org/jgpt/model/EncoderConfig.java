package org.jgpt.model;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;

/**
 * A bidirectional encoder's hyper-parameters in Hugging Face's RoBERTa form ({@code model_type: roberta}): BERT's
 * post-LayerNorm blocks over a byte-level BPE vocabulary. RoBERTa numbers positions from {@code pad_token_id + 1}, so
 * {@code max_position_embeddings} is the longest sequence + 2.
 *
 * @param hiddenAct "gelu" (exact, erf-based; RoBERTa's) or "gelu_new" (GPT-2's tanh approximation)
 */
public record EncoderConfig(
        int vocabSize,
        int hiddenSize,
        int numLayers,
        int numHeads,
        int intermediateSize,
        String hiddenAct,
        int maxPositionEmbeddings,
        int typeVocabSize,
        float layerNormEps,
        int padTokenId,
        int bosTokenId,
        int eosTokenId) {

    public static final String MODEL_TYPE = "roberta";
    private static final List<String> ACTIVATIONS = List.of("gelu", "gelu_new");

    public EncoderConfig {
        if (vocabSize <= 0 || hiddenSize <= 0 || numLayers <= 0 || numHeads <= 0 || intermediateSize <= 0
                || typeVocabSize <= 0) {
            throw new IllegalArgumentException("encoder config sizes must be positive: " + this);
        }
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hidden_size (" + hiddenSize + ") must be divisible by num_attention_heads ("
                    + numHeads + ")");
        }
        if (!ACTIVATIONS.contains(hiddenAct)) {
            throw new IllegalArgumentException("unsupported hidden_act '" + hiddenAct + "' (jgpt runs " + ACTIVATIONS + ")");
        }
        if (padTokenId < 0 || maxPositionEmbeddings <= padTokenId + 1) {
            throw new IllegalArgumentException("max_position_embeddings (" + maxPositionEmbeddings
                    + ") leaves no position after pad_token_id (" + padTokenId + ")");
        }
    }

    /** A RoBERTa-style encoder for sequences of up to {@code maxLength} tokens, with RoBERTa's special-token ids. */
    public static EncoderConfig roberta(int vocabSize, int maxLength, int hiddenSize, int numLayers, int numHeads) {
        return new EncoderConfig(vocabSize, hiddenSize, numLayers, numHeads, 4 * hiddenSize, "gelu", maxLength + 2, 1,
                1e-5f, 1, 0, 2);
    }

    /** RoBERTa-base's shapes (125M parameters) over a vocabulary of {@code vocabSize}. */
    public static EncoderConfig robertaBase(int vocabSize) {
        return new EncoderConfig(vocabSize, 768, 12, 12, 3072, "gelu", 514, 1, 1e-5f, 1, 0, 2);
    }

    /** This config with {@code typeVocabSize} token types (TLM's languages need two). */
    public EncoderConfig withTypeVocabSize(int typeVocabSize) {
        return new EncoderConfig(vocabSize, hiddenSize, numLayers, numHeads, intermediateSize, hiddenAct,
                maxPositionEmbeddings, typeVocabSize, layerNormEps, padTokenId, bosTokenId, eosTokenId);
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** The longest sequence the position table covers. */
    public int maxLength() {
        return maxPositionEmbeddings - padTokenId - 1;
    }

    public boolean exactGelu() {
        return hiddenAct.equals("gelu");
    }

    /** Whether a {@code config.json} describes a RoBERTa-style encoder rather than a GPT. */
    public static boolean describes(Path configJson) {
        return MODEL_TYPE.equals(Json.parseFile(configJson).get("model_type"));
    }

    /** Reads a Hugging Face RoBERTa {@code config.json}; errors name the file. */
    public static EncoderConfig load(Path configJson) {
        Map<String, Object> json = Json.parseFile(configJson);
        try {
            return fromMap(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configJson + ": " + e.getMessage(), e);
        }
    }

    /** The model keys of a RoBERTa config; absent keys take roberta-base's values. */
    public static EncoderConfig fromMap(Map<String, Object> m) {
        if (!MODEL_TYPE.equals(m.get("model_type"))) {
            throw new IllegalArgumentException("model_type is " + m.get("model_type") + ", expected " + MODEL_TYPE);
        }
        if (m.containsKey("position_embedding_type") && !"absolute".equals(m.get("position_embedding_type"))) {
            throw new IllegalArgumentException("unsupported position_embedding_type " + m.get("position_embedding_type"));
        }
        return new EncoderConfig(Json.integer(m, "vocab_size", 50265), Json.integer(m, "hidden_size", 768),
                Json.integer(m, "num_hidden_layers", 12), Json.integer(m, "num_attention_heads", 12),
                Json.integer(m, "intermediate_size", 3072),
                m.get("hidden_act") instanceof String s ? s : "gelu",
                Json.integer(m, "max_position_embeddings", 514), Json.integer(m, "type_vocab_size", 1),
                m.get("layer_norm_eps") instanceof Number n ? n.floatValue() : 1e-5f,
                Json.integer(m, "pad_token_id", 1), Json.integer(m, "bos_token_id", 0), Json.integer(m, "eos_token_id", 2));
    }

    /**
     * A {@code config.json} that transformers opens as {@code architecture} (RobertaForMaskedLM,
     * RobertaForSequenceClassification), with {@code extra} keys (labels) after the model's own.
     */
    public String toJson(String architecture, Map<String, Object> extra) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", List.of(architecture));
        m.put("attention_probs_dropout_prob", 0.1);
        m.put("bos_token_id", bosTokenId);
        m.put("eos_token_id", eosTokenId);
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
        return String.format(java.util.Locale.ROOT, "RoBERTa encoder, %d layers × %d wide, %d heads, feed-forward %d, %d positions,"
                + " vocabulary %,d, %d token type%s", numLayers, hiddenSize, numHeads, intermediateSize,
                maxPositionEmbeddings, vocabSize, typeVocabSize, typeVocabSize == 1 ? "" : "s");
    }
}
