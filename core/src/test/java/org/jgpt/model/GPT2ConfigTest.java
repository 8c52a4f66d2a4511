package org.jgpt.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hugging Face config.json in and out, checked against the values of the configs published on the hub. */
class GPT2ConfigTest {
    /** gpt2's config.json as published on the Hugging Face hub (task-specific params left out). */
    private static final String HUB_GPT2 = """
            {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
             "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02,
             "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12,
             "n_layer": 12, "n_positions": 1024, "resid_pdrop": 0.1, "summary_activation": null,
             "summary_first_dropout": 0.1, "summary_proj_to_labels": true, "summary_type": "cls_index",
             "summary_use_proj": true, "vocab_size": 50257}
            """;

    @Test
    void readsTheHubConfig() {
        GPT2Config c = GPT2Config.fromJson(HUB_GPT2);
        assertEquals(new GPT2Config(50257, 1024, 768, 12, 12, 3072, 1e-5f, "gelu_new", true, false, 50256, 50256), c);
        assertEquals(GPT2Config.preset("gpt2"), c);
    }

    @Test
    void presetsHaveTheHubSizes() {
        // {name, n_layer, n_head, n_embd} of the hub's gpt2-medium, gpt2-large, gpt2-xl and distilgpt2 configs
        Object[][] hub = {{"gpt2-medium", 24, 16, 1024}, {"gpt2-large", 36, 20, 1280}, {"gpt2-xl", 48, 25, 1600},
                {"distilgpt2", 6, 12, 768}};
        for (Object[] h : hub) {
            GPT2Config c = GPT2Config.preset((String) h[0]);
            assertEquals(List.of(h[1], h[2], h[3], 4 * (int) h[3], 50257, 1024),
                    List.of(c.nLayer(), c.nHead(), c.nEmbd(), c.innerDim(), c.vocabSize(), c.nPositions()), (String) h[0]);
        }
        assertThrows(IllegalArgumentException.class, () -> GPT2Config.preset("gpt3"));
    }

    @Test
    void fallbacksAndExplicitValues() {
        GPT2Config c = GPT2Config.fromJson("""
                {"n_ctx": 128, "n_embd": 64, "n_head": 2, "n_layer": 1, "vocab_size": 99, "n_inner": 100,
                 "layer_norm_epsilon": 1e-6, "scale_attn_by_inverse_layer_idx": true, "activation_function": "gelu_pytorch_tanh"}""");
        assertEquals(128, c.nPositions(), "n_ctx stands in for a missing n_positions");
        assertEquals(100, c.innerDim());
        assertEquals(1e-6f, c.layerNormEpsilon());
        assertTrue(c.scaleAttnByInverseLayerIdx());
        assertEquals(256, GPT2Config.fromJson("{\"n_embd\": 64, \"n_head\": 2, \"n_inner\": null}").innerDim());
        assertEquals(50256, c.bosTokenId(), "GPT-2's <|endoftext|> when absent");
        GPT2Config noIds = GPT2Config.fromJson("{\"bos_token_id\": null, \"eos_token_id\": null}");
        assertEquals(-1, noIds.bosTokenId(), "null, as HF configs may have it, means no such token");
        assertEquals(-1, noIds.eosTokenId());
        Map<String, Object> written = Json.parseObject(noIds.toJson());
        assertTrue(written.containsKey("bos_token_id") && written.get("bos_token_id") == null, "written back as null");
        assertEquals(noIds, GPT2Config.fromJson(noIds.toJson()));
    }

    @Test
    void refusesWhatTheModelCannotRun() {
        var e = assertThrows(IllegalArgumentException.class, () -> GPT2Config.fromJson("{\"activation_function\": \"relu\"}"));
        assertTrue(e.getMessage().contains("activation_function 'relu'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GPT2Config.fromJson("{\"model_type\": \"llama\"}"));
        assertTrue(e.getMessage().contains("model_type 'llama'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GPT2Config.fromJson("{\"n_layer\": \"12\"}"));
        assertTrue(e.getMessage().contains("n_layer"), e.getMessage());
    }

    @Test
    void loadNamesTheFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(f, "{\"n_head\": 5}");
        var e = assertThrows(IllegalArgumentException.class, () -> GPT2Config.load(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
    }

    @Test
    void writesWhatHuggingFaceReads() {
        GPT2Config c = new GPT2Config(1000, 256, 96, 3, 4, 200, 1e-5f, "gelu_new", true, true, 7, 8);
        Map<String, Object> json = Json.parseObject(c.toJson());
        assertEquals("gpt2", json.get("model_type"));
        assertEquals(List.of("GPT2LMHeadModel"), json.get("architectures"));
        assertEquals(1e-5, json.get("layer_norm_epsilon"));
        assertEquals(200L, json.get("n_inner"));
        assertEquals(c, GPT2Config.fromJson(c.toJson()));
        GPT2Config xl = GPT2Config.preset("gpt2-xl");
        assertTrue(Json.parseObject(xl.toJson()).containsKey("n_inner"));
        assertEquals(null, Json.parseObject(xl.toJson()).get("n_inner"), "4 × n_embd is written as null, as HF does");
        assertEquals(xl, GPT2Config.fromJson(xl.toJson()));
    }
}
