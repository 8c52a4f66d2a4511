package org.jgpt.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jgpt.io.CheckpointException;
import org.jgpt.io.Checkpoints;
import org.jgpt.io.Safetensors;
import org.jgpt.kernel.Q8Matrix;
import org.jgpt.kernel.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Q8_0 model end to end: its logits (prefill through the GEMM, then decoding through the matvec) against a model of
 * the same weights dequantized to F32, and the saved folder's round trip: quants and scales byte for byte, logits
 * exactly.
 */
class QuantizedModelTest {
    private static final GPT2Config CONFIG = TinyModels.config(96, 32, 64, 2, 4, false);
    private static final int[] PROMPT = {5, 17, 3, 90, 44, 12, 7, 7, 60, 1, 2, 33, 80, 95, 0, 21, 9, 14};
    private static final int[] DECODED = {8, 71, 30};

    @TempDir
    Path tmp;

    @Test
    void logitsMatchTheDequantizedModel() {
        GPT2Weights quantized = TinyModels.random(CONFIG, 7).quantizeQ8();
        assertNull(quantized.wte());
        assertEquals(1 + 4 * CONFIG.nLayer(), quantized.quantized().size()); // wte (the tied head) and 4 a layer
        float[] expected = logits(new GPT2Model(dequantized(quantized)));
        float[] actual = logits(new GPT2Model(quantized));
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-4 * (1 + Math.abs(expected[i])), "logit " + i);
        }
    }

    @Test
    void savedFolderLoadsAsTheSameModel(@TempDir Path dir) throws Exception {
        GPT2Weights quantized = TinyModels.random(CONFIG, 8).quantizeQ8();
        Path out = dir.resolve("q8");
        Checkpoints.saveQuantized(quantized, out);
        try (Safetensors file = Safetensors.open(out.resolve("model.safetensors"))) {
            assertNull(file.entry("transformer.h.0.attn.c_attn.weight"), "no F32 copy of a quantized matrix");
            Safetensors.Entry quants = file.entry("transformer.h.0.attn.c_attn.weight.q8_0");
            assertEquals("I8", quants.dtype());
            assertArrayEquals(new long[] {3 * 64, 64}, quants.shape()); // [out, in]
            Safetensors.Entry scales = file.entry("transformer.h.0.attn.c_attn.weight.q8_0_scales");
            assertEquals("F16", scales.dtype());
            assertArrayEquals(new long[] {3 * 64, 2}, scales.shape());
            assertEquals("F32", file.entry("transformer.h.0.attn.c_attn.bias").dtype());
            assertEquals("F32", file.entry("transformer.wpe.weight").dtype());
        }
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"quantization\": {\"method\": \"q8_0\", \"block_size\": 32}"));
        try (GPT2Weights loaded = Checkpoints.load(out)) {
            assertEquals(quantized.quantized().keySet(), loaded.quantized().keySet());
            for (Map.Entry<String, Q8Matrix> e : quantized.quantized().entrySet()) {
                Q8Matrix a = e.getValue(), b = loaded.quantized().get(e.getKey());
                assertEquals(-1, a.quants().data().mismatch(b.quants().data()), e.getKey() + " quants");
                assertEquals(-1, a.scales().data().mismatch(b.scales().data()), e.getKey() + " scales");
            }
            assertTrue(loaded.tied());
            assertArrayEquals(logits(new GPT2Model(quantized)), logits(new GPT2Model(loaded)));
        }
    }

    @Test
    void refusesMismatchedFoldersAndUnquantizedSaves() throws Exception {
        GPT2Weights quantized = TinyModels.random(CONFIG, 9).quantizeQ8();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Checkpoints.save(quantized, tmp.resolve("f32"), null));
        assertTrue(e.getMessage().contains("saveQuantized"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Checkpoints.saveQuantized(TinyModels.random(CONFIG, 9), tmp.resolve("plain")));
        assertTrue(e.getMessage().contains("not quantized"), e.getMessage());

        Path out = tmp.resolve("q8");
        Checkpoints.saveQuantized(quantized, out);
        Files.writeString(out.resolve("config.json"), CONFIG.toJson());
        CheckpointException undeclared = assertThrows(CheckpointException.class, () -> Checkpoints.load(out));
        assertTrue(undeclared.getMessage().contains("config.json declares no \"quantization\""), undeclared.getMessage());
        Files.writeString(out.resolve("config.json"), CONFIG.toJson().replace("{", "{\"quantization\": {\"method\": \"q4_0\"}, "));
        CheckpointException unknown = assertThrows(CheckpointException.class, () -> Checkpoints.load(out));
        assertTrue(unknown.getMessage().contains("unsupported quantization"), unknown.getMessage());
    }

    /** The logits of every prompt position, then of three decoded tokens. */
    private static float[] logits(GPT2Model model) {
        int vocab = CONFIG.vocabSize();
        KVCache[] cache = {model.newCache(PROMPT.length + DECODED.length)};
        float[] logits = new float[(PROMPT.length + DECODED.length) * vocab];
        float[] rows = new float[PROMPT.length * vocab];
        model.forward(new int[][] {PROMPT}, cache, new int[] {PROMPT.length}, rows);
        System.arraycopy(rows, 0, logits, 0, rows.length);
        float[] row = new float[vocab];
        for (int i = 0; i < DECODED.length; i++) {
            model.forward(new int[][] {{DECODED[i]}}, cache, row);
            System.arraycopy(row, 0, logits, (PROMPT.length + i) * vocab, vocab);
        }
        return logits;
    }

    /** The same model with each Q8_0 matrix dequantized into an F32 tensor of the checkpoint's layout. */
    private static GPT2Weights dequantized(GPT2Weights q) {
        Tensor wte = dequantize(q.quantizedWte(), false);
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < q.layers().size(); l++) {
            LayerWeights w = q.layers().get(l);
            Tensor[] m = new Tensor[4];
            for (int i = 0; i < 4; i++) m[i] = dequantize(q.quantized().get(GPT2Weights.layerMatrix(l, i)), true);
            layers.add(new LayerWeights(w.ln1Weight(), w.ln1Bias(), m[0], w.attnBias(), m[1], w.attnProjBias(),
                    w.ln2Weight(), w.ln2Bias(), m[2], w.fcBias(), m[3], w.fcProjBias()));
        }
        return new GPT2Weights(q.config(), wte, q.wpe(), layers, q.lnFWeight(), q.lnFBias(), wte, null);
    }

    /** {@code [out, in]}, or with {@code conv1d} {@code [in, out]}. */
    private static Tensor dequantize(Q8Matrix q, boolean conv1d) {
        int out = q.outDim(), in = q.inDim();
        float[] values = new float[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) values[conv1d ? i * out + o : o * in + i] = q.get(o, i);
        }
        return conv1d ? Tensor.of(q.name(), values, in, out) : Tensor.of(q.name(), values, out, in);
    }
}
