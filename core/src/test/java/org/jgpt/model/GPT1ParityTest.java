package org.jgpt.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Checkpoints;
import org.jgpt.io.Json;
import org.jgpt.kernel.DType;
import org.jgpt.tokenizer.GPT1Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPT-1 (openai-gpt) against PyTorch: data/fixtures/gpt1/tiny, written by scripts/reference/make_gpt1_fixture.py
 * (Hugging Face's modeling_openai and tokenization_openai written out by hand): a 2-layer post-LN model with a small
 * BPE vocabulary. Checks the tokens and ids of three texts (lower-casing, accents, punctuation, control characters,
 * CJK, unknown symbols), the decoded text, and every logit of each text: max |Δlogit| ≤ 1e-4.
 */
class GPT1ParityTest {
    private static final Path MODEL = Path.of("..", "data", "fixtures", "gpt1", "tiny");

    @TempDir
    Path tmp;

    @SuppressWarnings("unchecked")
    private static Map<String, Object> expected() throws IOException {
        return Json.parseObject(Files.readString(MODEL.resolve("expected.json")));
    }

    @Test
    void readsTheHubsOpenAiGptConfig() {
        // huggingface.co/openai-gpt/config.json (its summary_* and task keys left out)
        GPT2Config c = GPT2Config.fromJson("""
                {"afn": "gelu", "architectures": ["OpenAIGPTLMHeadModel"], "attn_pdrop": 0.1, "embd_pdrop": 0.1,
                 "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "openai-gpt", "n_ctx": 512,
                 "n_embd": 768, "n_head": 12, "n_layer": 12, "n_positions": 512, "n_special": 0,
                 "predict_special_tokens": true, "resid_pdrop": 0.1, "vocab_size": 40478}""");
        assertEquals(GPT2Config.gpt1(40478, 512, 768, 12, 12, 1e-5f), c);
        assertEquals(3072, c.innerDim());
        assertEquals("gelu_new", c.activationFunction(), "HF's ACT_FNS['gelu'] for openai-gpt is gelu_new");
        assertEquals(c, GPT2Config.fromJson(c.toJson()), "round trip");
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> GPT2Config.fromJson("{\"model_type\": \"openai-gpt\", \"afn\": \"relu\"}"));
        assertEquals("unsupported afn 'relu' (jgpt runs GPT-1's gelu)", e.getMessage());
    }

    @Test
    @SuppressWarnings("unchecked")
    void tokenizerMatchesHuggingFacesAlgorithm() throws IOException {
        Map<String, Object> expected = expected();
        GPT1Tokenizer tokenizer = GPT1Tokenizer.fromDirectory(MODEL);
        List<String> texts = (List<String>) expected.get("texts");
        for (int i = 0; i < texts.size(); i++) {
            assertEquals(((List<?>) expected.get("tokens")).get(i), tokenizer.tokenize(texts.get(i)), texts.get(i));
            int[] ids = Json.toIntArray(((List<?>) expected.get("ids")).get(i));
            assertArrayEquals(ids, tokenizer.encode(texts.get(i)), texts.get(i));
        }
        // decoding gives the joined tokens back (an unknown symbol stays <unk>)
        List<String> decoded = (List<String>) expected.get("decoded");
        for (int i = 0; i < 2; i++) {
            assertEquals(decoded.get(i), tokenizer.decode(Json.toIntArray(((List<?>) expected.get("ids")).get(i))));
        }
        assertTrue(tokenizer.decode(Json.toIntArray(((List<?>) expected.get("ids")).get(2))).endsWith("<unk><unk>"));

        Path copy = tmp.resolve("tokenizer");
        tokenizer.save(copy);
        GPT1Tokenizer reloaded = GPT1Tokenizer.fromDirectory(copy);
        for (int i = 0; i < texts.size(); i++) {
            assertArrayEquals(tokenizer.encode(texts.get(i)), reloaded.encode(texts.get(i)), "saved and loaded again");
        }
    }

    @Test
    void logitsMatchPyTorch() throws IOException {
        try (GPT2Weights weights = Checkpoints.load(MODEL)) {
            assertTrue(weights.config().postLayerNorm());
            assertNull(weights.lnFWeight(), "GPT-1 has no final LayerNorm");
            assertMatchesPyTorch(new GPT2Model(weights));
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void decodingOneTokenAtATimeThroughTheKvCacheMatchesPyTorch() throws IOException {
        Map<String, Object> expected = expected();
        int[] ids = Json.toIntArray(((List<Object>) expected.get("ids")).get(1));
        List<List<Number>> want = (List<List<Number>>) ((List<Object>) expected.get("logits")).get(1);
        try (GPT2Weights weights = Checkpoints.load(MODEL)) {
            GPT2Model model = new GPT2Model(weights);
            int vocab = model.config().vocabSize();
            KVCache cache = model.newCache(ids.length);
            float[] logits = new float[vocab];
            for (int t = 0; t < ids.length; t++) {
                model.forward(new int[][] {{ids[t]}}, new KVCache[] {cache}, logits);
                for (int v = 0; v < vocab; v++) {
                    assertEquals(want.get(t).get(v).doubleValue(), logits[v], 1e-4, "position " + t + ", token " + v);
                }
            }
        }
    }

    @Test
    void savedAndLoadedAgainItStillMatches() throws IOException {
        Path copy = tmp.resolve("gpt1");
        try (GPT2Weights weights = Checkpoints.load(MODEL)) {
            Checkpoints.save(weights, copy, DType.F32);
        }
        String config = Files.readString(copy.resolve("config.json"));
        assertTrue(config.contains("\"model_type\": \"openai-gpt\"") && config.contains("\"afn\": \"gelu\""), config);
        try (var safetensors = org.jgpt.io.Safetensors.open(copy.resolve("model.safetensors"))) {
            assertTrue(safetensors.names().contains("transformer.tokens_embed.weight"), safetensors.names().toString());
        }
        try (GPT2Weights weights = Checkpoints.load(copy)) {
            assertMatchesPyTorch(new GPT2Model(weights));
        }
    }

    @SuppressWarnings("unchecked")
    private static void assertMatchesPyTorch(GPT2Model model) throws IOException {
        Map<String, Object> expected = expected();
        List<Object> allIds = (List<Object>) expected.get("ids");
        int vocab = model.config().vocabSize();
        for (int s = 0; s < allIds.size(); s++) {
            int[] ids = Json.toIntArray(allIds.get(s));
            float[] logits = new float[ids.length * vocab];
            model.forward(new int[][] {ids}, new KVCache[] {model.newCache(ids.length)}, new int[] {ids.length}, logits);
            List<List<Number>> want = (List<List<Number>>) ((List<Object>) expected.get("logits")).get(s);
            double max = 0;
            for (int t = 0; t < ids.length; t++) {
                for (int v = 0; v < vocab; v++) max = Math.max(max, Math.abs(want.get(t).get(v).doubleValue() - logits[t * vocab + v]));
            }
            assertTrue(max <= 1e-4, "text " + s + ": max |Δlogit| " + max);
        }
    }
}
