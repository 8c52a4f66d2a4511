package org.jgpt.generate;

import java.util.Arrays;
import java.util.List;
import org.jgpt.kernel.Tensor;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.GPT2Weights;
import org.jgpt.model.LayerWeights;

/**
 * A GPT-2 with the full vocabulary whose weights make it say a chosen script: the blocks are zero, so the residual
 * is the position embedding alone, a one-hot times 4; the untied LM head maps position {@code p}'s one-hot to the
 * script's token for that position with a logit near 56, every other token getting 0 or less. Generation tests can
 * then steer exactly which tokens come out (an emoji's byte tokens, a stop string, {@code <|endoftext|>}).
 */
final class ScriptedModel {
    static final int CONTEXT = 32;
    private static final int VOCAB = 50257;

    private ScriptedModel() {}

    /** A model that, after a prompt of {@code promptLength} tokens, produces {@code script} (then token 0). */
    static GPT2Model saying(int promptLength, int[] script) {
        int c = CONTEXT;
        GPT2Config config = new GPT2Config(VOCAB, CONTEXT, c, 1, 1, 4, 1e-5f, "gelu_new", true, false, 50256, 50256);
        float[] wpe = new float[CONTEXT * c];
        for (int p = 0; p < CONTEXT; p++) wpe[p * c + p] = 4f;
        float[] head = new float[VOCAB * c];
        for (int i = 0; i < script.length; i++) {
            int position = promptLength - 1 + i;
            head[script[i] * c + position] += 10f;
        }
        LayerWeights layer = new LayerWeights(ones(c), zeros(c), zeros(c, 3 * c), zeros(3 * c), zeros(c, c), zeros(c),
                ones(c), zeros(c), zeros(c, 4), zeros(4), zeros(4, c), zeros(c));
        GPT2Weights weights = new GPT2Weights(config, zeros(VOCAB, c), Tensor.of("wpe", wpe, CONTEXT, c),
                List.of(layer), ones(c), zeros(c), Tensor.of("lm_head", head, VOCAB, c), null);
        return new GPT2Model(weights);
    }

    private static Tensor zeros(int... shape) {
        return Tensor.of("zeros", new float[size(shape)], longs(shape));
    }

    private static Tensor ones(int n) {
        float[] values = new float[n];
        Arrays.fill(values, 1f);
        return Tensor.of("ones", values, n);
    }

    private static int size(int[] shape) {
        int n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    private static long[] longs(int[] shape) {
        long[] out = new long[shape.length];
        for (int i = 0; i < shape.length; i++) out[i] = shape[i];
        return out;
    }
}
