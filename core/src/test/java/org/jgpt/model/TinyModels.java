package org.jgpt.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.jgpt.kernel.Tensor;

/** Small GPT-2s with seeded random weights, for tests that need a model but not a trained one. */
public final class TinyModels {
    private TinyModels() {}

    public static GPT2Config config(int vocab, int context, int embd, int layers, int heads, boolean inverseLayerScale) {
        return new GPT2Config(vocab, context, embd, layers, heads, 4 * embd, 1e-5f, "gelu_new", true,
                inverseLayerScale, vocab - 1, vocab - 1);
    }

    /** Weights drawn from N(0, 0.2²) (gains around 1), tied LM head. */
    public static GPT2Weights random(GPT2Config config, long seed) {
        Random random = new Random(seed);
        int c = config.nEmbd();
        int inner = config.innerDim();
        Tensor wte = tensor("wte", random, 0f, config.vocabSize(), c);
        Tensor wpe = tensor("wpe", random, 0f, config.nPositions(), c);
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < config.nLayer(); l++) {
            String p = "h." + l + ".";
            layers.add(new LayerWeights(
                    tensor(p + "ln_1.weight", random, 1f, c), tensor(p + "ln_1.bias", random, 0f, c),
                    tensor(p + "attn.c_attn.weight", random, 0f, c, 3 * c), tensor(p + "attn.c_attn.bias", random, 0f, 3 * c),
                    tensor(p + "attn.c_proj.weight", random, 0f, c, c), tensor(p + "attn.c_proj.bias", random, 0f, c),
                    tensor(p + "ln_2.weight", random, 1f, c), tensor(p + "ln_2.bias", random, 0f, c),
                    tensor(p + "mlp.c_fc.weight", random, 0f, c, inner), tensor(p + "mlp.c_fc.bias", random, 0f, inner),
                    tensor(p + "mlp.c_proj.weight", random, 0f, inner, c), tensor(p + "mlp.c_proj.bias", random, 0f, c)));
        }
        return new GPT2Weights(config, wte, wpe, layers, tensor("ln_f.weight", random, 1f, c),
                tensor("ln_f.bias", random, 0f, c), wte, null);
    }

    private static Tensor tensor(String name, Random random, float mean, int... shape) {
        long[] dims = new long[shape.length];
        int n = 1;
        for (int i = 0; i < shape.length; i++) {
            dims[i] = shape[i];
            n *= shape[i];
        }
        float[] values = new float[n];
        for (int i = 0; i < n; i++) values[i] = mean + 0.2f * (float) random.nextGaussian();
        return Tensor.of(name, values, dims);
    }
}
