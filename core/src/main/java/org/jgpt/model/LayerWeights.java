package org.jgpt.model;

import org.jgpt.kernel.Tensor;

/**
 * One transformer block's parameters, in Hugging Face GPT-2's Conv1D layout ([in, out] matrices), with C = n_embd
 * and I = the MLP width.
 */
public record LayerWeights(
        Tensor ln1Weight, Tensor ln1Bias,          // [C], [C]
        Tensor attnWeight, Tensor attnBias,        // c_attn: [C, 3C], [3C]
        Tensor attnProjWeight, Tensor attnProjBias, // attn.c_proj: [C, C], [C]
        Tensor ln2Weight, Tensor ln2Bias,          // [C], [C]
        Tensor fcWeight, Tensor fcBias,            // mlp.c_fc: [C, I], [I]
        Tensor fcProjWeight, Tensor fcProjBias) {  // mlp.c_proj: [I, C], [C]
}
