package org.jgpt.model;

import java.util.List;
import org.jgpt.kernel.Tensor;

/**
 * All of a GPT-2 model's parameters. {@code lmHead} is [vocab, C]: the token embedding itself when the weights are
 * tied, as in every released GPT-2. {@code resources} closes whatever backs the tensors (memory-mapped files).
 */
public record GPT2Weights(
        GPT2Config config,
        Tensor wte,          // [vocab, C]
        Tensor wpe,          // [n_positions, C]
        List<LayerWeights> layers,
        Tensor lnFWeight, Tensor lnFBias,
        Tensor lmHead,
        AutoCloseable resources) implements AutoCloseable {

    public GPT2Weights {
        layers = List.copyOf(layers);
    }

    public boolean tied() {
        return lmHead == wte;
    }

    @Override
    public void close() throws Exception {
        if (resources != null) resources.close();
    }
}
