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
 */
public final class Checkpoints {
    private static final String PREFIX = "transformer.";
    private static final Pattern MASK_BUFFER = Pattern.compile("h\\.\\d+\\.attn\\.(bias|masked_bias)");

    private Checkpoints() {}

    /**
     * Loads a model folder. The tensors stay memory-mapped (no copies): close the weights to unmap them.
     */
    public static GPT2Weights load(Path dir) {
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) throw new CheckpointException(dir, "no config.json in the model folder");
        GPT2Config config = GPT2Config.load(configFile);
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
            return assemble(config, described, tensors, origin, () -> closeAll(opened));
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

    /** Checks names and shapes against the config and builds the weights. */
    private static GPT2Weights assemble(GPT2Config c, Path described, Map<String, Tensor> tensors, Map<String, Path> origin,
                                        AutoCloseable resources) {
        Map<String, long[]> expected = shapes(c);
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            Tensor t = tensors.get(e.getKey());
            if (t == null) {
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
        Tensor wte = tensors.get(embeddingName(c, "wte"));
        Tensor lmHead = tensors.get("lm_head.weight");
        if (lmHead == null || lmHead.data().equals(wte.data())) {
            lmHead = wte; // tied, as in every released GPT-2 (torch.save writes the shared storage once)
        } else if (!Arrays.equals(lmHead.shape(), wte.shape())) {
            throw new CheckpointException(origin.get("lm_head.weight"), "tensor " + lmHead.name() + " has shape "
                    + Arrays.toString(lmHead.shape()) + " but the config implies " + Arrays.toString(wte.shape()));
        }
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < c.nLayer(); i++) {
            String h = "h." + i + ".";
            layers.add(new LayerWeights(
                    tensors.get(h + "ln_1.weight"), tensors.get(h + "ln_1.bias"),
                    tensors.get(h + "attn.c_attn.weight"), tensors.get(h + "attn.c_attn.bias"),
                    tensors.get(h + "attn.c_proj.weight"), tensors.get(h + "attn.c_proj.bias"),
                    tensors.get(h + "ln_2.weight"), tensors.get(h + "ln_2.bias"),
                    tensors.get(h + "mlp.c_fc.weight"), tensors.get(h + "mlp.c_fc.bias"),
                    tensors.get(h + "mlp.c_proj.weight"), tensors.get(h + "mlp.c_proj.bias")));
        }
        return new GPT2Weights(c, wte, tensors.get(embeddingName(c, "wpe")), layers, tensors.get("ln_f.weight"),
                tensors.get("ln_f.bias"), lmHead, resources);
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
        List<Tensor> tensors = new ArrayList<>();
        tensors.add(renamed(PREFIX + embeddingName(w.config(), "wte"), w.wte()));
        tensors.add(renamed(PREFIX + embeddingName(w.config(), "wpe"), w.wpe()));
        for (int i = 0; i < w.layers().size(); i++) {
            LayerWeights l = w.layers().get(i);
            String h = PREFIX + "h." + i + ".";
            tensors.add(renamed(h + "ln_1.weight", l.ln1Weight()));
            tensors.add(renamed(h + "ln_1.bias", l.ln1Bias()));
            tensors.add(renamed(h + "attn.c_attn.weight", l.attnWeight()));
            tensors.add(renamed(h + "attn.c_attn.bias", l.attnBias()));
            tensors.add(renamed(h + "attn.c_proj.weight", l.attnProjWeight()));
            tensors.add(renamed(h + "attn.c_proj.bias", l.attnProjBias()));
            tensors.add(renamed(h + "ln_2.weight", l.ln2Weight()));
            tensors.add(renamed(h + "ln_2.bias", l.ln2Bias()));
            tensors.add(renamed(h + "mlp.c_fc.weight", l.fcWeight()));
            tensors.add(renamed(h + "mlp.c_fc.bias", l.fcBias()));
            tensors.add(renamed(h + "mlp.c_proj.weight", l.fcProjWeight()));
            tensors.add(renamed(h + "mlp.c_proj.bias", l.fcProjBias()));
        }
        if (w.lnFWeight() != null) {
            tensors.add(renamed(PREFIX + "ln_f.weight", w.lnFWeight()));
            tensors.add(renamed(PREFIX + "ln_f.bias", w.lnFBias()));
        }
        if (!w.tied()) tensors.add(renamed("lm_head.weight", w.lmHead()));
        tensors.addAll(extra);
        try {
            Files.createDirectories(dir);
            Safetensors.write(dir.resolve("model.safetensors"), tensors, dtype, Map.of("format", "pt"));
            AtomicFiles.writeString(dir.resolve("config.json"), w.config().toJson());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the model to " + dir + ": " + e.getMessage(), e);
        }
    }

    private static Tensor renamed(String name, Tensor t) {
        return new Tensor(name, t.dtype(), t.shape(), t.data());
    }

    private static void closeAll(List<TensorFile> files) {
        for (TensorFile f : files) f.close();
    }
}
