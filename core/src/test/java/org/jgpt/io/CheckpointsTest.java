package org.jgpt.io;

import static org.jgpt.io.SafetensorsTest.assertMentions;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.jgpt.kernel.DType;
import org.jgpt.kernel.Tensor;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Weights;
import org.jgpt.model.LayerWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model folders that do not fit their config, and saving weights as a Hugging Face folder. */
class CheckpointsTest {
    private static final GPT2Config SMALL = new GPT2Config(300, 32, 64, 4, 4, 256, 1e-5f, "gelu_new", true, false, 299, 299);

    @TempDir
    Path dir;

    /** A copy of the tiny-f32 fixture whose tensor list went through {@code edit}. */
    private Path editedFixture(UnaryOperator<List<Tensor>> edit) throws IOException {
        Path src = Fixtures.variant("tiny-f32");
        Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
        try (Safetensors st = Safetensors.open(src.resolve("model.safetensors"))) {
            List<Tensor> tensors = new ArrayList<>(st.names().stream().map(st::tensor).toList());
            Safetensors.write(dir.resolve("model.safetensors"), edit.apply(tensors), Map.of());
        }
        return dir.resolve("model.safetensors");
    }

    private void assertLoadFails(Path file, String... parts) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.load(dir).close());
        assertMentions(e, file, parts);
    }

    @Test
    void aNaNWeightIsRefusedByTensorAndPosition() throws IOException {
        Path f = editedFixture(ts -> ts.stream().map(t -> {
            if (!t.name().endsWith("h.2.mlp.c_fc.weight")) return t;
            float[] values = t.toFloatArray();
            values[5 * (int) t.shape()[1] + 7] = Float.NaN;
            return Tensor.of(t.name(), values, t.shape());
        }).toList());
        assertLoadFails(f, "h.2.mlp.c_fc.weight", "NaN", "[5, 7]");
    }

    @Test
    void missingTensorsAreNamed() throws IOException {
        Path f = editedFixture(ts -> ts.stream().filter(t -> !t.name().endsWith("h.1.ln_2.bias")).toList());
        assertLoadFails(f, "missing tensors", "h.1.ln_2.bias");
    }

    @Test
    void unexpectedTensorsAreNamed() throws IOException {
        Path f = editedFixture(ts -> {
            ts.add(Tensor.of("transformer.h.0.attn.rotary", new float[] {1}, 1));
            return ts;
        });
        assertLoadFails(f, "unexpected tensors", "h.0.attn.rotary");
    }

    @Test
    void shapesAreCheckedAgainstTheConfig() throws IOException {
        Path f = editedFixture(ts -> ts);
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"n_positions\": 64", "\"n_positions\": 32"));
        assertLoadFails(f, "tensor transformer.wpe.weight", "[64, 32]", "[32, 32]");
    }

    @Test
    void namesWithAndWithoutThePrefixMayNotCollide() throws IOException {
        Path f = editedFixture(ts -> {
            ts.add(Tensor.of("ln_f.bias", new float[32], 32));
            return ts;
        });
        assertLoadFails(f, "ln_f.bias", "appears twice");
    }

    @Test
    void aShardLackingATensorTheIndexPlacesThere() throws IOException {
        Path src = Fixtures.variant("tiny-sharded");
        for (String name : List.of("config.json", "model.safetensors.index.json", "model-00001-of-00003.safetensors",
                "model-00003-of-00003.safetensors")) {
            Files.copy(src.resolve(name), dir.resolve(name));
        }
        Path second = dir.resolve("model-00002-of-00003.safetensors");
        try (Safetensors st = Safetensors.open(src.resolve(second.getFileName()))) {
            List<Tensor> kept = st.names().stream().filter(n -> !n.endsWith("h.1.mlp.c_fc.weight")).map(st::tensor).toList();
            Safetensors.write(second, kept, Map.of());
        }
        assertLoadFails(second, "tensor transformer.h.1.mlp.c_fc.weight is missing");
    }

    @Test
    void shardedTorchFilesFollowTheirIndex() throws IOException {
        Path src = Fixtures.variant("tiny-bin");
        Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
        Files.copy(src.resolve("pytorch_model.bin"), dir.resolve("pytorch_model-00001-of-00001.bin"));
        StringBuilder map = new StringBuilder();
        try (TorchCheckpoint bin = TorchCheckpoint.open(src.resolve("pytorch_model.bin"))) {
            for (String name : bin.names()) {
                map.append(map.isEmpty() ? "" : ", ").append('"').append(name).append("\": \"pytorch_model-00001-of-00001.bin\"");
            }
        }
        Files.writeString(dir.resolve("pytorch_model.bin.index.json"), "{\"metadata\": {}, \"weight_map\": {" + map + "}}");
        try (GPT2Weights w = Checkpoints.load(dir); GPT2Weights reference = Checkpoints.load(src)) {
            assertArrayEquals(reference.layers().get(2).fcWeight().toFloatArray(), w.layers().get(2).fcWeight().toFloatArray());
            assertTrue(w.tied());
        }
        Files.writeString(dir.resolve("pytorch_model.bin.index.json"),
                "{\"weight_map\": {\"transformer.wte.weight\": \"../pytorch_model-00001-of-00001.bin\"}}");
        assertLoadFails(dir.resolve("pytorch_model.bin.index.json"), "tensor transformer.wte.weight",
                "not a file name in the model folder");
    }

    @Test
    void aFolderWithoutWeights() throws IOException {
        Files.copy(Fixtures.variant("tiny-f32").resolve("config.json"), dir.resolve("config.json"));
        assertLoadFails(dir, "no model.safetensors");
    }

    @Test
    void randomInitFollowsGpt2() {
        try (GPT2Weights w = GPT2Weights.random(SMALL, 7, DType.F32)) {
            assertTrue(w.tied());
            assertStd(0.02, w.wte());
            assertStd(0.02, w.wpe());
            LayerWeights l = w.layers().get(2);
            assertStd(0.02, l.attnWeight());
            assertStd(0.02, l.fcWeight());
            assertStd(0.02 / Math.sqrt(8), l.attnProjWeight());
            assertStd(0.02 / Math.sqrt(8), l.fcProjWeight());
            for (Tensor t : List.of(l.attnBias(), l.fcBias(), l.fcProjBias(), l.ln1Bias(), w.lnFBias())) {
                for (float v : t.toFloatArray()) assertEquals(0f, v, t.name());
            }
            for (Tensor t : List.of(l.ln1Weight(), l.ln2Weight(), w.lnFWeight())) {
                for (float v : t.toFloatArray()) assertEquals(1f, v, t.name());
            }
            try (GPT2Weights again = GPT2Weights.random(SMALL, 7, DType.F32);
                 GPT2Weights other = GPT2Weights.random(SMALL, 8, DType.F32)) {
                assertArrayEquals(w.wte().toFloatArray(), again.wte().toFloatArray(), "same seed, same weights");
                assertNotEquals(w.wte().get(0), other.wte().get(0));
            }
        }
    }

    /** The sample standard deviation of a tensor with thousands of N(0, std) draws is within 5% of std; mean ~0. */
    private static void assertStd(double std, Tensor t) {
        double sum = 0, squares = 0;
        for (float v : t.toFloatArray()) {
            sum += v;
            squares += (double) v * v;
        }
        double n = t.size(), mean = sum / n;
        assertEquals(std, Math.sqrt(squares / n - mean * mean), 0.05 * std, t.name() + " std");
        assertEquals(0, mean, 5 * std / Math.sqrt(n), t.name() + " mean");
    }

    @Test
    void savedFoldersLoadBack() {
        try (GPT2Weights w = GPT2Weights.random(SMALL, 1, DType.F32)) {
            Checkpoints.save(w, dir, DType.F32);
            try (GPT2Weights back = Checkpoints.load(dir)) {
                assertEquals(SMALL, back.config());
                assertTrue(back.tied());
                assertEquals("transformer.wte.weight", back.wte().name());
                assertArrayEquals(w.wte().toFloatArray(), back.wte().toFloatArray());
                assertArrayEquals(w.layers().get(3).fcProjWeight().toFloatArray(),
                        back.layers().get(3).fcProjWeight().toFloatArray());
            }
            Checkpoints.save(w, dir, DType.BF16);
            try (GPT2Weights back = Checkpoints.load(dir)) {
                assertEquals(DType.BF16, back.wpe().dtype());
                for (int i = 0; i < 100; i++) {
                    float x = w.wpe().get(i);
                    assertEquals(Float.intBitsToFloat(Safetensors.toBFloat16(x) << 16), back.wpe().get(i));
                    assertEquals(x, back.wpe().get(i), Math.abs(x) / 256);
                }
            }
        }
    }

    @Test
    void savedFilesAreReadableByOthersAsPlainNewFilesAre() throws IOException {
        try (GPT2Weights w = GPT2Weights.random(SMALL, 1, DType.F32)) {
            Checkpoints.save(w, dir, DType.BF16);
        }
        for (String name : List.of("config.json", "model.safetensors")) {
            var permissions = java.nio.file.Files.getPosixFilePermissions(dir.resolve(name));
            assertTrue(permissions.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ), name + ": " + permissions);
        }
    }

    @Test
    void untiedHeadIsSavedUnderItsOwnName() {
        try (GPT2Weights w = GPT2Weights.random(SMALL, 1, DType.F16)) {
            Tensor head = Tensor.of("head", new float[300 * 64], 300, 64);
            GPT2Weights untied = new GPT2Weights(w.config(), w.wte(), w.wpe(), w.layers(), w.lnFWeight(), w.lnFBias(),
                    head, null);
            Checkpoints.save(untied, dir, DType.F32);
            try (Safetensors st = Safetensors.open(dir.resolve("model.safetensors"))) {
                assertTrue(st.names().contains("lm_head.weight"));
                assertEquals(Map.of("format", "pt"), st.metadata());
            }
            try (GPT2Weights back = Checkpoints.load(dir)) {
                assertFalse(back.tied());
                assertEquals(0f, back.lmHead().get(5));
                assertEquals(w.wte().get(5), back.wte().get(5), "F16 widened to F32 exactly");
            }
        }
    }
}
