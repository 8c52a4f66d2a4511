package org.jgpt.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.jgpt.kernel.DType;
import org.jgpt.kernel.Q8Matrix;
import org.jgpt.kernel.Tensor;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Weights;
import org.jgpt.model.LayerWeights;

/**
 * Hugging Face GPT-2 (and GPT-1, {@code openai-gpt}) model folders: {@code config.json} with {@code model.safetensors}
 * or {@code pytorch_model.bin}, or with a sharded checkpoint's {@code model.safetensors.index.json} (or
 * {@code pytorch_model.bin.index.json}) and the shards its {@code weight_map} names.
 *
 * <p>Tensor names may carry the {@code transformer.} prefix (GPT2LMHeadModel) or not (GPT2Model); the attention
 * mask buffers {@code attn.bias} and {@code attn.masked_bias} are skipped; {@code lm_head.weight} is optional (absent:
 * tied to {@code wte}); a sequence-classification head {@code score.weight} is passed over. Conv1D matrices stay in
 * their [in, out] layout. Every expected tensor must be present with the shape the config implies, and nothing else
 * may be.
 *
 * <p>A Q8_0 folder ({@link #saveQuantized}, {@code jgpt quantize}) holds each quantized matrix {@code NAME} as two
 * tensors: {@code NAME.q8_0}, I8 {@code [out, in]} (nn.Linear's orientation, so a Conv1D matrix's shape is reversed),
 * and {@code NAME.q8_0_scales}, F16 {@code [out, in / 32]}, the scale of each block of 32 inputs (see
 * {@link Q8Matrix}); its config.json says {@code "quantization": {"method": "q8_0", "block_size": 32}}. The token
 * embedding, the LM head and the layers' four matrices are quantized; LayerNorms, biases and the position embedding
 * stay as they were.
 */
public final class Checkpoints {
    private static final String PREFIX = "transformer.";
    private static final String QUANTS = ".q8_0";
    private static final String SCALES = ".q8_0_scales";
    private static final Pattern QUANTIZABLE =
            Pattern.compile("wte\\.weight|tokens_embed\\.weight|lm_head\\.weight|h\\.\\d+\\.(attn\\.c_attn|attn\\.c_proj|mlp\\.c_fc|mlp\\.c_proj)\\.weight");
    /** How the names of a block's tensors end, in {@link LayerWeights}' order. */
    private static final List<String> LAYER_TENSORS = List.of("ln_1.weight", "ln_1.bias", "attn.c_attn.weight",
            "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight",
            "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias");
    private static final Pattern MASK_BUFFER = Pattern.compile("h\\.\\d+\\.attn\\.(bias|masked_bias)");

    private Checkpoints() {}

    /**
     * Loads a model folder. The tensors stay memory-mapped (no copies): close the weights to unmap them.
     */
    public static GPT2Weights load(Path dir) {
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) throw new CheckpointException(dir, "no config.json in the model folder");
        GPT2Config config = GPT2Config.load(configFile);
        boolean declaredQ8 = declaresQ8(configFile);
        List<TensorFile> files = new ArrayList<>();
        try {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Map<String, Path> origin = new LinkedHashMap<>();
            Path described;
            Path single = dir.resolve("model.safetensors"), bin = dir.resolve("pytorch_model.bin");
            Path index = dir.resolve("model.safetensors.index.json");
            if (!Files.exists(index)) index = dir.resolve("pytorch_model.bin.index.json");
            if (Files.exists(single) || Files.exists(bin)) {
                described = Files.exists(single) ? single : bin;
                TensorFile f = TensorFile.open(described);
                files.add(f);
                for (String name : f.names()) collect(f, name, tensors, origin);
            } else if (Files.exists(index)) {
                described = index;
                Map<String, TensorFile> shards = new LinkedHashMap<>();
                for (Map.Entry<String, String> e : weightMap(dir, index).entrySet()) {
                    TensorFile shard = shards.get(e.getValue());
                    if (shard == null) {
                        shard = TensorFile.open(dir.resolve(e.getValue()));
                        files.add(shard);
                        shards.put(e.getValue(), shard);
                    }
                    if (!shard.names().contains(e.getKey())) {
                        throw new CheckpointException(shard.file(), "tensor " + e.getKey() + " is missing, though "
                                + index.getFileName() + " places it in this shard");
                    }
                    collect(shard, e.getKey(), tensors, origin);
                }
            } else {
                throw new CheckpointException(dir, "no model.safetensors, pytorch_model.bin or a sharded checkpoint's "
                        + "model.safetensors.index.json / pytorch_model.bin.index.json");
            }
            List<TensorFile> opened = List.copyOf(files);
            return assemble(config, described, tensors, origin, declaredQ8, () -> closeAll(opened));
        } catch (RuntimeException e) {
            closeAll(files);
            throw e;
        }
    }

    /** Adds one tensor under its name without the {@code transformer.} prefix, skipping the mask buffers. */
    private static void collect(TensorFile f, String name, Map<String, Tensor> tensors, Map<String, Path> origin) {
        String canonical = name.startsWith(PREFIX) ? name.substring(PREFIX.length()) : name;
        if (MASK_BUFFER.matcher(canonical).matches()) return;
        if (tensors.containsKey(canonical)) {
            throw new CheckpointException(f.file(), "tensor " + name + " appears twice (also in " + origin.get(canonical)
                    + ", with or without the " + PREFIX + " prefix)");
        }
        tensors.put(canonical, f.tensor(name));
        origin.put(canonical, f.file());
    }

    private static Map<String, String> weightMap(Path dir, Path index) {
        Map<String, Object> json;
        try {
            json = Json.parseObject(Files.readString(index, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + index + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(index, "not a JSON object: " + e.getMessage(), e);
        }
        if (!(json.get("weight_map") instanceof Map<?, ?> map)) throw new CheckpointException(index, "no weight_map object");
        Map<String, String> out = new LinkedHashMap<>();
        Path root = dir.toAbsolutePath().normalize();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String shard) || !root.resolve(shard).normalize().getParent().equals(root)) {
                throw new CheckpointException(index, "tensor " + e.getKey() + ": shard " + e.getValue()
                        + " is not a file name in the model folder");
            }
            out.put((String) e.getKey(), shard);
        }
        return out;
    }

    /** Whether config.json declares Q8_0 weights; any other quantization is refused. */
    private static boolean declaresQ8(Path configFile) {
        Object q = Json.parseFile(configFile).get("quantization");
        if (q == null) return false;
        if (q instanceof Map<?, ?> m && "q8_0".equals(m.get("method")) && Long.valueOf(Q8Matrix.BLOCK).equals(m.get("block_size"))) {
            return true;
        }
        throw new CheckpointException(configFile, "unsupported quantization " + Json.write(q)
                + " (jgpt reads {\"method\": \"q8_0\", \"block_size\": 32})");
    }

    /** Takes each {@code NAME.q8_0} and {@code NAME.q8_0_scales} pair out of {@code tensors}, as Q8_0 matrices by NAME. */
    private static Map<String, Q8Matrix> quantized(Map<String, Tensor> tensors, Map<String, Path> origin) {
        Map<String, Q8Matrix> quantized = new LinkedHashMap<>();
        for (String name : List.copyOf(tensors.keySet())) {
            if (!name.endsWith(QUANTS)) continue;
            String base = name.substring(0, name.length() - QUANTS.length());
            if (!QUANTIZABLE.matcher(base).matches()) {
                throw new CheckpointException(origin.get(name), "tensor " + name + ": " + base + " is not a matrix jgpt"
                        + " quantizes (the token embedding, the LM head and the layers' four matrices)");
            }
            if (tensors.containsKey(base)) {
                throw new CheckpointException(origin.get(name), "tensor " + base + " is there both as " + name + " and unquantized");
            }
            Tensor scales = tensors.remove(base + SCALES);
            if (scales == null) throw new CheckpointException(origin.get(name), "tensor " + name + " has no " + base + SCALES);
            try {
                quantized.put(base, Q8Matrix.of(base, tensors.remove(name), scales));
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(origin.get(name), e.getMessage(), e);
            }
            origin.put(base, origin.get(name));
        }
        return quantized;
    }

    /** A Q8_0 matrix's {@code [out, in]} as the checkpoint's own tensor would have it: a layer's Conv1D is {@code [in, out]}. */
    private static long[] checkpointShape(String name, Q8Matrix q) {
        return name.startsWith("h.") ? new long[] {q.inDim(), q.outDim()} : new long[] {q.outDim(), q.inDim()};
    }

    /** Checks names and shapes against the config and builds the weights. */
    private static GPT2Weights assemble(GPT2Config c, Path described, Map<String, Tensor> tensors, Map<String, Path> origin,
                                        boolean declaredQ8, AutoCloseable resources) {
        Map<String, Q8Matrix> quantized = quantized(tensors, origin);
        if (declaredQ8 && quantized.isEmpty()) {
            throw new CheckpointException(described, "config.json declares q8_0 quantization, but there are no " + QUANTS + " tensors");
        }
        if (!declaredQ8 && !quantized.isEmpty()) {
            throw new CheckpointException(described, "holds " + QUANTS + " tensors, but config.json declares no"
                    + " \"quantization\": {\"method\": \"q8_0\", \"block_size\": 32}");
        }
        Map<String, long[]> expected = shapes(c);
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            Tensor t = tensors.get(e.getKey());
            Q8Matrix q = quantized.get(e.getKey());
            if (q != null) {
                if (!Arrays.equals(checkpointShape(e.getKey(), q), e.getValue())) {
                    throw new CheckpointException(origin.get(e.getKey()), "Q8_0 matrix " + q + " does not fit the shape "
                            + Arrays.toString(e.getValue()) + " that the config implies");
                }
            } else if (t == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new CheckpointException(origin.get(e.getKey()), "tensor " + t.name() + " has shape "
                        + Arrays.toString(t.shape()) + " but the config implies " + Arrays.toString(e.getValue()));
            }
        }
        if (!missing.isEmpty()) {
            throw new CheckpointException(described, "missing tensors (with or without the " + PREFIX + " prefix): "
                    + String.join(", ", missing));
        }
        TreeSet<String> extra = new TreeSet<>(tensors.keySet());
        extra.removeAll(expected.keySet());
        extra.remove("lm_head.weight");
        extra.remove("score.weight"); // GPT2ForSequenceClassification's head: a fine-tuned model still runs as an LM
        if (!extra.isEmpty()) {
            throw new CheckpointException(origin.get(extra.first()), "unexpected tensors for GPT-2: " + String.join(", ", extra));
        }
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) requireFinite(e.getValue(), origin.get(e.getKey()));
        Tensor wte = tensors.get(embeddingName(c, "wte"));
        Tensor lmHead = tensors.get("lm_head.weight");
        long[] wteShape = expected.get(embeddingName(c, "wte"));
        Q8Matrix lmHeadQ8 = quantized.get("lm_head.weight");
        if (lmHeadQ8 != null) {
            if (!Arrays.equals(checkpointShape("lm_head.weight", lmHeadQ8), wteShape)) {
                throw new CheckpointException(origin.get("lm_head.weight"), "Q8_0 matrix " + lmHeadQ8
                        + " does not fit the shape " + Arrays.toString(wteShape) + " that the config implies");
            }
        } else if (lmHead == null || wte != null && lmHead.data().equals(wte.data())) {
            lmHead = wte; // tied, as in every released GPT-2 (torch.save writes the shared storage once)
        } else if (!Arrays.equals(lmHead.shape(), wteShape)) {
            throw new CheckpointException(origin.get("lm_head.weight"), "tensor " + lmHead.name() + " has shape "
                    + Arrays.toString(lmHead.shape()) + " but the config implies " + Arrays.toString(wteShape));
        }
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < c.nLayer(); i++) {
            String h = "h." + i + ".";
            List<Tensor> layer = new ArrayList<>();
            for (String name : LAYER_TENSORS) layer.add(tensors.get(h + name));
            layers.add(new LayerWeights(layer));
        }
        return new GPT2Weights(c, wte, tensors.get(embeddingName(c, "wpe")), layers, tensors.get("ln_f.weight"),
                tensors.get("ln_f.bias"), lmHead, resources, quantized);
    }

    /**
     * A NaN or an infinity in any weight makes every output NaN (scores print as null, sampling picks token 0), so a
     * checkpoint holding one is refused at load, by the tensor's name and the element's position.
     */
    public static void requireFinite(Tensor t, Path file) {
        long i = t.firstNonFinite();
        if (i >= 0) {
            throw new CheckpointException(file, "tensor " + t.name() + " holds " + t.get(i) + " at " + t.position(i)
                    + ": a model with NaN or infinite weights computes only NaN (the checkpoint is damaged, or the"
                    + " training that wrote it diverged)");
        }
    }

    /** GPT-2's {@code wte}/{@code wpe} are GPT-1's {@code tokens_embed}/{@code positions_embed}: the name with {@code .weight}. */
    public static String embeddingName(GPT2Config c, String gpt2Name) {
        if (!c.postLayerNorm()) return gpt2Name + ".weight";
        return gpt2Name.equals("wte") ? "tokens_embed.weight" : "positions_embed.weight";
    }

    /**
     * GPT2Model's (or for GPT-1 OpenAIGPTModel's) parameter names (no prefix) and shapes for a config, in Hugging
     * Face's order. GPT-1 has no ln_f.
     */
    public static Map<String, long[]> shapes(GPT2Config c) {
        long C = c.nEmbd(), I = c.innerDim();
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put(embeddingName(c, "wte"), new long[] {c.vocabSize(), C});
        s.put(embeddingName(c, "wpe"), new long[] {c.nPositions(), C});
        for (int i = 0; i < c.nLayer(); i++) {
            String h = "h." + i + ".";
            s.put(h + "ln_1.weight", new long[] {C});
            s.put(h + "ln_1.bias", new long[] {C});
            s.put(h + "attn.c_attn.weight", new long[] {C, 3 * C});
            s.put(h + "attn.c_attn.bias", new long[] {3 * C});
            s.put(h + "attn.c_proj.weight", new long[] {C, C});
            s.put(h + "attn.c_proj.bias", new long[] {C});
            s.put(h + "ln_2.weight", new long[] {C});
            s.put(h + "ln_2.bias", new long[] {C});
            s.put(h + "mlp.c_fc.weight", new long[] {C, I});
            s.put(h + "mlp.c_fc.bias", new long[] {I});
            s.put(h + "mlp.c_proj.weight", new long[] {I, C});
            s.put(h + "mlp.c_proj.bias", new long[] {C});
        }
        if (!c.postLayerNorm()) {
            s.put("ln_f.weight", new long[] {C});
            s.put("ln_f.bias", new long[] {C});
        }
        return s;
    }

    /**
     * Saves weights as a Hugging Face GPT2LMHeadModel folder: {@code config.json} and {@code model.safetensors}
     * (names with the {@code transformer.} prefix, {@code lm_head.weight} only when untied), converted to
     * {@code dtype}. Each file is written atomically.
     */
    public static void save(GPT2Weights w, Path dir, DType dtype) {
        save(w, dir, dtype, List.of());
    }

    /** Like {@link #save(GPT2Weights, Path, DType)}, with {@code extra} tensors (a task head) under their own names. */
    public static void save(GPT2Weights w, Path dir, DType dtype, List<Tensor> extra) {
        if (!w.quantized().isEmpty()) {
            throw new IllegalArgumentException("the weights are quantized (Q8_0): save them with saveQuantized");
        }
        List<Tensor> tensors = tensors(w);
        tensors.addAll(extra);
        write(dir, tensors, dtype, w.config().toJson());
    }

    /**
     * Saves Q8_0 weights ({@link GPT2Weights#quantizeQ8}) in the layout the class comment describes: the quantized
     * matrices as quants and scales, every other tensor in its own dtype. Each file is written atomically.
     */
    public static void saveQuantized(GPT2Weights w, Path dir) {
        if (w.quantized().isEmpty()) throw new IllegalArgumentException("the weights are not quantized: quantizeQ8 them first");
        Map<String, Object> config = new LinkedHashMap<>(Json.parseObject(w.config().toJson()));
        Map<String, Object> quantization = new LinkedHashMap<>();
        quantization.put("method", "q8_0");
        quantization.put("block_size", Q8Matrix.BLOCK);
        config.put("quantization", quantization);
        write(dir, tensors(w), null, Json.write(config) + "\n");
    }

    private static void write(Path dir, List<Tensor> tensors, DType dtype, String configJson) {
        try {
            Files.createDirectories(dir);
            Safetensors.write(dir.resolve("model.safetensors"), tensors, dtype, Map.of("format", "pt"));
            AtomicFiles.writeString(dir.resolve("config.json"), configJson);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the model to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The weights' tensors under their GPT2LMHeadModel names; a quantized matrix as its quants and scales. */
    private static List<Tensor> tensors(GPT2Weights w) {
        List<Tensor> tensors = new ArrayList<>();
        String wte = embeddingName(w.config(), "wte");
        add(tensors, w, PREFIX, wte, w.wte());
        add(tensors, w, PREFIX, embeddingName(w.config(), "wpe"), w.wpe());
        for (int i = 0; i < w.layers().size(); i++) {
            List<Tensor> layer = w.layers().get(i).tensors();
            for (int j = 0; j < LAYER_TENSORS.size(); j++) {
                add(tensors, w, PREFIX, "h." + i + "." + LAYER_TENSORS.get(j), layer.get(j));
            }
        }
        if (w.lnFWeight() != null) {
            add(tensors, w, PREFIX, "ln_f.weight", w.lnFWeight());
            add(tensors, w, PREFIX, "ln_f.bias", w.lnFBias());
        }
        if (!w.tied()) add(tensors, w, "", "lm_head.weight", w.lmHead());
        return tensors;
    }

    /** Adds {@code t} as {@code prefix + name}, or when it is quantized (null) the Q8_0 matrix's two tensors. */
    private static void add(List<Tensor> tensors, GPT2Weights w, String prefix, String name, Tensor t) {
        if (t != null) {
            tensors.add(renamed(prefix + name, t));
            return;
        }
        Q8Matrix q = w.quantized().get(name);
        if (q == null) throw new IllegalArgumentException("weights hold neither a tensor nor a Q8_0 matrix " + name);
        tensors.add(renamed(prefix + name + QUANTS, q.quants()));
        tensors.add(renamed(prefix + name + SCALES, q.scales()));
    }

    private static Tensor renamed(String name, Tensor t) {
        return new Tensor(name, t.dtype(), t.shape(), t.data());
    }

    private static void closeAll(List<TensorFile> files) {
        for (TensorFile f : files) f.close();
    }
}
