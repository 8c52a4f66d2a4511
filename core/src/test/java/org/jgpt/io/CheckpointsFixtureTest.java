package org.jgpt.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jgpt.kernel.Tensor;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Weights;
import org.jgpt.model.LayerWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every PyTorch fixture loads into GPT2Weights, and each tensor holds the values torch stored: the first three and
 * the last element bit for bit, and torch's float64 sum and sum of magnitudes (to 1e-12 of the latter).
 */
class CheckpointsFixtureTest {
    @ParameterizedTest
    @ValueSource(strings = {"tiny-f32", "tiny-f16", "tiny-bf16", "tiny-noprefix-buffers", "tiny-sharded", "tiny-untied",
            "tiny-inverse-layer-idx", "tiny-bin", "tiny-bin-f16", "tiny-bin-bf16", "full-vocab"})
    void loadsTheValuesTorchStored(String variant) {
        Map<String, Object> expected = Fixtures.expected(variant);
        try (GPT2Weights w = Checkpoints.load(Fixtures.variant(variant))) {
            assertEquals(expected.get("tied"), w.tied());
            Map<String, Tensor> byName = byName(w);
            @SuppressWarnings("unchecked")
            Map<String, Map<String, Object>> tensors = (Map<String, Map<String, Object>>) expected.get("tensors");
            for (Map.Entry<String, Map<String, Object>> e : tensors.entrySet()) {
                // torch.save writes a tied head as a second name for wte's storage
                String name = e.getKey().equals("lm_head.weight") && w.tied() ? w.wte().name() : e.getKey();
                Tensor t = byName.get(name);
                Map<String, Object> check = e.getValue();
                assertEquals(check.get("dtype"), t.dtype().name(), name);
                assertArrayEquals(longs(check.get("shape")), t.shape(), name);
                List<?> first = (List<?>) check.get("first");
                for (int i = 0; i < first.size(); i++) {
                    assertEquals((float) (double) (Double) first.get(i), t.get(i), 0f, name + "[" + i + "]");
                }
                assertEquals((float) (double) (Double) check.get("last"), t.get(t.size() - 1), 0f, name + " last");
                double sum = 0, absSum = 0;
                for (long i = 0; i < t.size(); i++) {
                    sum += t.get(i);
                    absSum += Math.abs(t.get(i));
                }
                double tolerance = 1e-12 * (Double) check.get("abs_sum");
                assertEquals((Double) check.get("sum"), sum, tolerance, name + " sum");
                assertEquals((Double) check.get("abs_sum"), absSum, tolerance, name + " abs_sum");
            }
            assertEquals(tensors.size() - (w.tied() && tensors.containsKey("lm_head.weight") ? 1 : 0),
                    byName.size(), variant + ": the weights hold the stored tensors and nothing else");
        }
    }

    @Test
    void configsMatchTheVariants() {
        GPT2Config untied = GPT2Config.load(Fixtures.variant("tiny-untied").resolve("config.json"));
        assertEquals(96, untied.innerDim());
        assertEquals(new GPT2Config(512, 64, 32, 3, 4, 128, 1e-5f, "gelu_new", true, true, 511, 511),
                GPT2Config.load(Fixtures.variant("tiny-inverse-layer-idx").resolve("config.json")));
        GPT2Config full = GPT2Config.load(Fixtures.variant("full-vocab").resolve("config.json"));
        assertEquals(50257, full.vocabSize());
        assertEquals(16, full.nEmbd());
    }

    @Test
    void untiedHeadIsItsOwnTensor() {
        try (GPT2Weights w = Checkpoints.load(Fixtures.variant("tiny-untied"))) {
            assertFalse(w.tied());
            assertEquals("lm_head.weight", w.lmHead().name());
        }
        try (GPT2Weights w = Checkpoints.load(Fixtures.variant("tiny-bin"))) {
            assertSame(w.wte(), w.lmHead(), "the .bin's lm_head.weight shares wte's storage");
        }
    }

    private static Map<String, Tensor> byName(GPT2Weights w) {
        Map<String, Tensor> m = new HashMap<>();
        for (Tensor t : List.of(w.wte(), w.wpe(), w.lnFWeight(), w.lnFBias(), w.lmHead())) m.put(t.name(), t);
        for (LayerWeights l : w.layers()) {
            for (Tensor t : List.of(l.ln1Weight(), l.ln1Bias(), l.attnWeight(), l.attnBias(), l.attnProjWeight(),
                    l.attnProjBias(), l.ln2Weight(), l.ln2Bias(), l.fcWeight(), l.fcBias(), l.fcProjWeight(),
                    l.fcProjBias())) {
                m.put(t.name(), t);
            }
        }
        return m;
    }

    private static long[] longs(Object list) {
        return ((List<?>) list).stream().mapToLong(o -> (Long) o).toArray();
    }
}
