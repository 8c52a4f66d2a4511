package org.jgpt.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;

/**
 * GPT-2's hyper-parameters, named as in Hugging Face's {@code config.json}; also GPT-1's ({@code openai-gpt}), the
 * same decoder with post-LayerNorm blocks and no final LayerNorm.
 *
 * @param innerDim the MLP width ({@code n_inner}; 4 × nEmbd when the config leaves it null)
 * @param modelType {@code gpt2} or {@code openai-gpt}, as config.json's {@code model_type}
 */
public record GPT2Config(
        int vocabSize,
        int nPositions,
        int nEmbd,
        int nLayer,
        int nHead,
        int innerDim,
        float layerNormEpsilon,
        String activationFunction,
        boolean scaleAttnWeights,
        boolean scaleAttnByInverseLayerIdx,
        int bosTokenId,
        int eosTokenId,
        String modelType) {

    public static final String GPT2 = "gpt2";
    public static final String GPT1 = "openai-gpt";

    /** A GPT-2 configuration. */
    public GPT2Config(int vocabSize, int nPositions, int nEmbd, int nLayer, int nHead, int innerDim, float layerNormEpsilon,
                      String activationFunction, boolean scaleAttnWeights, boolean scaleAttnByInverseLayerIdx,
                      int bosTokenId, int eosTokenId) {
        this(vocabSize, nPositions, nEmbd, nLayer, nHead, innerDim, layerNormEpsilon, activationFunction, scaleAttnWeights,
                scaleAttnByInverseLayerIdx, bosTokenId, eosTokenId, GPT2);
    }

    public GPT2Config {
        if (!modelType.equals(GPT2) && !modelType.equals(GPT1)) {
            throw new IllegalArgumentException("unsupported model_type '" + modelType + "' (jgpt runs gpt2 and openai-gpt)");
        }
        if (vocabSize <= 0 || nPositions <= 0 || nEmbd <= 0 || nLayer <= 0 || nHead <= 0 || innerDim <= 0) {
            throw new IllegalArgumentException("GPT-2 config sizes must be positive: " + this);
        }
        if (nEmbd % nHead != 0) {
            throw new IllegalArgumentException("n_embd (" + nEmbd + ") must be divisible by n_head (" + nHead + ")");
        }
    }

    /** The activations the kernels implement: both names denote GELU's tanh approximation. */
    private static final List<String> ACTIVATIONS = List.of("gelu_new", "gelu_pytorch_tanh");

    public int headDim() {
        return nEmbd / nHead;
    }

    /** GPT-1's block, x = ln_2(n + mlp(n)) with n = ln_1(x + attn(x)), and no final LayerNorm; else GPT-2's pre-LN. */
    public boolean postLayerNorm() {
        return modelType.equals(GPT1);
    }

    /** GPT-1's released configuration (Hugging Face's {@code openai-gpt}): 12 layers, 768 wide, 512 positions. */
    public static GPT2Config gpt1(int vocabSize, int nPositions, int nEmbd, int nLayer, int nHead, float layerNormEpsilon) {
        // GPT-1 has no end-of-text token; -1 marks the ids as absent
        return new GPT2Config(vocabSize, nPositions, nEmbd, nLayer, nHead, 4 * nEmbd, layerNormEpsilon, "gelu_new", true, false,
                -1, -1, GPT1);
    }

    /** Hugging Face's released GPT-2 sizes: gpt2, gpt2-medium, gpt2-large, gpt2-xl and distilgpt2. */
    public static GPT2Config preset(String name) {
        return switch (name) {
            case "gpt2" -> released(12, 12, 768);
            case "gpt2-medium" -> released(24, 16, 1024);
            case "gpt2-large" -> released(36, 20, 1280);
            case "gpt2-xl" -> released(48, 25, 1600);
            case "distilgpt2" -> released(6, 12, 768);
            default -> throw new IllegalArgumentException("unknown GPT-2 preset '" + name
                    + "' (gpt2, gpt2-medium, gpt2-large, gpt2-xl, distilgpt2)");
        };
    }

    private static GPT2Config released(int nLayer, int nHead, int nEmbd) {
        return new GPT2Config(50257, 1024, nEmbd, nLayer, nHead, 4 * nEmbd, 1e-5f, "gelu_new", true, false, 50256, 50256);
    }

    /** Reads a Hugging Face {@code config.json}; errors name the file. */
    public static GPT2Config load(Path configJson) {
        String text;
        try {
            text = Files.readString(configJson, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + configJson + ": " + e.getMessage(), e);
        }
        try {
            return fromJson(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configJson + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses a Hugging Face GPT-2 {@code config.json}. Absent keys take GPT2Config's defaults there (the 124M
     * model); {@code n_inner: null} means 4 × n_embd; {@code n_ctx} stands in for a missing {@code n_positions};
     * a null {@code bos_token_id} or {@code eos_token_id} becomes -1, no such token.
     */
    public static GPT2Config fromJson(String json) {
        Map<String, Object> m = Json.parseObject(json);
        Object modelType = m.get("model_type");
        if (GPT1.equals(modelType)) return gpt1FromJson(m);
        if (modelType != null && !modelType.equals(GPT2)) {
            throw new IllegalArgumentException("model_type '" + modelType + "' is not a GPT: this needs gpt2 or openai-gpt"
                    + " ('jgpt info --model DIR' tells what a folder holds)");
        }
        String activation = string(m, "activation_function", "gelu_new");
        if (!ACTIVATIONS.contains(activation)) {
            throw new IllegalArgumentException("unsupported activation_function '" + activation + "' (jgpt runs "
                    + String.join(", ", ACTIVATIONS) + ")");
        }
        int nEmbd = Json.integer(m, "n_embd", 768);
        int nPositions = m.containsKey("n_positions") ? Json.integer(m, "n_positions", 1024) : Json.integer(m, "n_ctx", 1024);
        Object nInner = m.get("n_inner");
        return new GPT2Config(
                Json.integer(m, "vocab_size", 50257),
                nPositions,
                nEmbd,
                Json.integer(m, "n_layer", 12),
                Json.integer(m, "n_head", 12),
                nInner == null ? 4 * nEmbd : Json.integer(m, "n_inner", 0),
                (float) number(m, "layer_norm_epsilon", 1e-5),
                activation,
                bool(m, "scale_attn_weights", true),
                bool(m, "scale_attn_by_inverse_layer_idx", false),
                tokenId(m, "bos_token_id"),
                tokenId(m, "eos_token_id"));
    }

    /**
     * Hugging Face's OpenAIGPTConfig keys (defaults: openai-gpt's). Its {@code afn} "gelu" is, in modeling_openai's
     * ACT_FNS, {@code gelu_new}: GELU's tanh approximation, as in GPT-2; the MLP is 4 × n_embd wide.
     */
    private static GPT2Config gpt1FromJson(Map<String, Object> m) {
        String afn = string(m, "afn", "gelu");
        if (!afn.equals("gelu")) throw new IllegalArgumentException("unsupported afn '" + afn + "' (jgpt runs GPT-1's gelu)");
        int nPositions = m.containsKey("n_positions") ? Json.integer(m, "n_positions", 512) : Json.integer(m, "n_ctx", 512);
        return gpt1(Json.integer(m, "vocab_size", 40478), nPositions, Json.integer(m, "n_embd", 768), Json.integer(m, "n_layer", 12),
                Json.integer(m, "n_head", 12), (float) number(m, "layer_norm_epsilon", 1e-5));
    }

    /** A Hugging Face-compatible {@code config.json} (GPT2LMHeadModel), so that transformers can load what jgpt saves. */
    public String toJson() {
        if (postLayerNorm()) return gpt1Json();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("activation_function", activationFunction);
        m.put("architectures", List.of("GPT2LMHeadModel"));
        m.put("attn_pdrop", 0.1);
        m.put("bos_token_id", bosTokenId < 0 ? null : bosTokenId);
        m.put("embd_pdrop", 0.1);
        m.put("eos_token_id", eosTokenId < 0 ? null : eosTokenId);
        m.put("initializer_range", 0.02);
        m.put("layer_norm_epsilon", Double.parseDouble(Float.toString(layerNormEpsilon)));
        m.put("model_type", "gpt2");
        m.put("n_ctx", nPositions);
        m.put("n_embd", nEmbd);
        m.put("n_head", nHead);
        m.put("n_inner", innerDim == 4 * nEmbd ? null : innerDim);
        m.put("n_layer", nLayer);
        m.put("n_positions", nPositions);
        m.put("resid_pdrop", 0.1);
        m.put("scale_attn_by_inverse_layer_idx", scaleAttnByInverseLayerIdx);
        m.put("scale_attn_weights", scaleAttnWeights);
        m.put("vocab_size", vocabSize);
        return Json.write(m) + "\n";
    }

    private String gpt1Json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("afn", "gelu");
        m.put("architectures", List.of("OpenAIGPTLMHeadModel"));
        m.put("attn_pdrop", 0.1);
        m.put("embd_pdrop", 0.1);
        m.put("initializer_range", 0.02);
        m.put("layer_norm_epsilon", Double.parseDouble(Float.toString(layerNormEpsilon)));
        m.put("model_type", GPT1);
        m.put("n_ctx", nPositions);
        m.put("n_embd", nEmbd);
        m.put("n_head", nHead);
        m.put("n_layer", nLayer);
        m.put("n_positions", nPositions);
        m.put("resid_pdrop", 0.1);
        m.put("vocab_size", vocabSize);
        return Json.write(m) + "\n";
    }

    private static double number(Map<String, Object> m, String key, double fallback) {
        if (!m.containsKey(key)) return fallback;
        if (m.get(key) instanceof Number n) return n.doubleValue();
        throw new IllegalArgumentException(key + " must be a number, not " + m.get(key));
    }

    /** A special token's id (GPT-2's {@code <|endoftext|>} when absent), or -1 where the config sets it to null. */
    private static int tokenId(Map<String, Object> m, String key) {
        return m.containsKey(key) && m.get(key) == null ? -1 : Json.integer(m, key, 50256);
    }

    private static boolean bool(Map<String, Object> m, String key, boolean fallback) {
        if (!m.containsKey(key)) return fallback;
        if (m.get(key) instanceof Boolean b) return b;
        throw new IllegalArgumentException(key + " must be true or false, not " + m.get(key));
    }

    private static String string(Map<String, Object> m, String key, String fallback) {
        if (!m.containsKey(key)) return fallback;
        if (m.get(key) instanceof String s) return s;
        throw new IllegalArgumentException(key + " must be a string, not " + m.get(key));
    }

    /** The shape in words, for logs and run headers. */
    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "%s, %d layers × %d wide, %d heads, feed-forward %d, context %d, vocabulary %,d",
                postLayerNorm() ? "GPT-1" : "GPT-2", nLayer, nEmbd, nHead, innerDim, nPositions, vocabSize);
    }
}
