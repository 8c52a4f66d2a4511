package org.jgpt.model;

/**
 * GPT-2's hyper-parameters, named as in Hugging Face's {@code config.json}.
 *
 * @param innerDim the MLP width ({@code n_inner}; 4 × nEmbd when the config leaves it null)
 */
public record GPT2Config(
        int vocabSize,
        int nPositions,
        int nEmbd,
        int nLayer,
        int nHead,
        int innerDim,
        float layerNormEpsilon,
        String activationFunction,
        boolean scaleAttnWeights,
        boolean scaleAttnByInverseLayerIdx,
        int bosTokenId,
        int eosTokenId) {

    public GPT2Config {
        if (vocabSize <= 0 || nPositions <= 0 || nEmbd <= 0 || nLayer <= 0 || nHead <= 0 || innerDim <= 0) {
            throw new IllegalArgumentException("GPT-2 config sizes must be positive: " + this);
        }
        if (nEmbd % nHead != 0) {
            throw new IllegalArgumentException("n_embd (" + nEmbd + ") must be divisible by n_head (" + nHead + ")");
        }
    }

    public int headDim() {
        return nEmbd / nHead;
    }
}
