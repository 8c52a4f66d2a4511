package org.jgpt.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.jgpt.io.Checkpoints;
import org.jgpt.io.Safetensors;
import org.jgpt.kernel.DType;
import org.jgpt.kernel.Parallel;
import org.jgpt.kernel.Q8Matrix;
import org.jgpt.kernel.Tensor;

/**
 * All of a GPT-2 model's parameters. {@code lmHead} is [vocab, C]: the token embedding itself when the weights are
 * tied, as in every released GPT-2. GPT-1 has no final LayerNorm: lnFWeight and lnFBias are null. {@code resources}
 * closes whatever backs the tensors (memory-mapped files).
 *
 * <p>Quantized weights ({@link #quantizeQ8}, or a folder saved by {@code jgpt quantize}) hold their matrices in
 * {@code quantized}, by checkpoint name without the {@code transformer.} prefix ({@code wte.weight},
 * {@code h.0.attn.c_attn.weight}, ..., {@code lm_head.weight} when untied); those matrices' tensor fields are null.
 * LayerNorms, biases and the position embedding stay tensors.
 */
public record GPT2Weights(
        GPT2Config config,
        Tensor wte,          // [vocab, C]
        Tensor wpe,          // [n_positions, C]
        List<LayerWeights> layers,
        Tensor lnFWeight, Tensor lnFBias,
        Tensor lmHead,
        AutoCloseable resources,
        Map<String, Q8Matrix> quantized) implements AutoCloseable {
    /** How the names of a layer's four matrices end, in LayerWeights' order. */
    private static final List<String> LAYER_MATRICES =
            List.of("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight");

    public GPT2Weights {
        layers = List.copyOf(layers);
        quantized = Map.copyOf(quantized);
    }

    /** Weights with every matrix a tensor. */
    public GPT2Weights(GPT2Config config, Tensor wte, Tensor wpe, List<LayerWeights> layers, Tensor lnFWeight,
                       Tensor lnFBias, Tensor lmHead, AutoCloseable resources) {
        this(config, wte, wpe, layers, lnFWeight, lnFBias, lmHead, resources, Map.of());
    }

    /**
     * These weights with every matrix (the four of each layer, the token embedding and an untied LM head) quantized
     * to Q8_0; the new weights take over {@code resources}, which still back the vectors and position embedding.
     * Matrices already quantized stay as they are.
     */
    public GPT2Weights quantizeQ8() {
        Map<String, Q8Matrix> q = new LinkedHashMap<>(quantized);
        String wteName = Checkpoints.embeddingName(config, "wte");
        if (wte != null) q.put(wteName, Q8Matrix.quantize(wte, true));
        if (!tied() && lmHead != null) q.put("lm_head.weight", Q8Matrix.quantize(lmHead, true));
        List<LayerWeights> kept = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            LayerWeights w = layers.get(l);
            Tensor[] matrices = {w.attnWeight(), w.attnProjWeight(), w.fcWeight(), w.fcProjWeight()};
            for (int m = 0; m < matrices.length; m++) {
                if (matrices[m] != null) q.put(layerMatrix(l, m), Q8Matrix.quantize(matrices[m], false));
            }
            kept.add(new LayerWeights(w.ln1Weight(), w.ln1Bias(), null, w.attnBias(), null, w.attnProjBias(),
                    w.ln2Weight(), w.ln2Bias(), null, w.fcBias(), null, w.fcProjBias()));
        }
        return new GPT2Weights(config, null, wpe, kept, lnFWeight, lnFBias, null, resources, q);
    }

    /** The name of layer {@code l}'s matrix {@code m}: 0 attn.c_attn, 1 attn.c_proj, 2 mlp.c_fc, 3 mlp.c_proj. */
    public static String layerMatrix(int l, int m) {
        return "h." + l + "." + LAYER_MATRICES.get(m);
    }

    /** The Q8_0 token embedding, or null when it is a tensor. */
    public Q8Matrix quantizedWte() {
        return quantized.get(Checkpoints.embeddingName(config, "wte"));
    }

    /** The Q8_0 LM head (the token embedding when tied), or null when it is a tensor. */
    public Q8Matrix quantizedLmHead() {
        return tied() ? quantizedWte() : quantized.get("lm_head.weight");
    }

    /**
     * GPT-2's initialisation (as Hugging Face's {@code _init_weights}): N(0, 0.02) matrices and embeddings, the
     * residual projections {@code attn.c_proj} and {@code mlp.c_proj} N(0, 0.02/√(2·n_layer)), zero biases,
     * LayerNorm gain 1 and bias 0; tied LM head. Off-heap (closing the weights frees it); deterministic per seed.
     */
    public static GPT2Weights random(GPT2Config config, long seed, DType dtype) {
        Map<String, long[]> shapes = Checkpoints.shapes(config);
        List<String> names = new ArrayList<>(shapes.keySet());
        SplittableRandom root = new SplittableRandom(seed);
        List<SplittableRandom> streams = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) streams.add(root.split()); // one stream a tensor: fills run in parallel
        Arena arena = Arena.ofShared();
        Tensor[] tensors = new Tensor[names.size()];
        double residualStd = 0.02 / Math.sqrt(2.0 * config.nLayer());
        Parallel.forEach(names.size(), i -> {
            String name = names.get(i);
            long[] shape = shapes.get(name);
            long n = 1;
            for (long d : shape) n *= d;
            MemorySegment data = arena.allocate(n * dtype.bytes, 64);
            SplittableRandom rng = streams.get(i);
            boolean gain = name.endsWith("ln_1.weight") || name.endsWith("ln_2.weight") || name.equals("ln_f.weight");
            double std = name.endsWith(".bias") || gain ? 0 : name.endsWith("c_proj.weight") ? residualStd : 0.02;
            for (long j = 0; j < n; j++) set(data, dtype, j, gain ? 1f : std == 0 ? 0f : (float) (std * rng.nextGaussian()));
            tensors[i] = new Tensor(name, dtype, shape, data);
        });
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < config.nLayer(); l++) {
            int b = 2 + 12 * l; // Checkpoints.shapes lists each layer's 12 tensors in LayerWeights' order
            layers.add(new LayerWeights(Arrays.asList(tensors).subList(b, b + 12)));
        }
        int end = tensors.length;
        Tensor lnFWeight = config.postLayerNorm() ? null : tensors[end - 2];
        Tensor lnFBias = config.postLayerNorm() ? null : tensors[end - 1];
        return new GPT2Weights(config, tensors[0], tensors[1], layers, lnFWeight, lnFBias, tensors[0], arena::close);
    }

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static void set(MemorySegment data, DType dtype, long i, float x) {
        switch (dtype) {
            case F32 -> data.set(F32, i * 4, x);
            case F16 -> data.set(I16, i * 2, Float.floatToFloat16(x));
            case BF16 -> data.set(I16, i * 2, Safetensors.toBFloat16(x));
            case I8 -> throw new IllegalArgumentException("random weights are F32, F16 or BF16; quantizeQ8 makes Q8_0");
        }
    }

    public boolean tied() {
        return lmHead == wte && !quantized.containsKey("lm_head.weight");
    }

    /** Releases what backs the tensors (unmaps checkpoint files, frees off-heap memory); they must not be used after. */
    @Override
    public void close() {
        if (resources == null) return;
        try {
            resources.close();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("cannot release the model's weights: " + e.getMessage(), e);
        }
    }
}
