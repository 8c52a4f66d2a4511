package org.jgpt.model;

import java.util.Arrays;
import java.util.List;
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

    /** A block from its twelve tensors in this record's order (null where a matrix is quantized). */
    public LayerWeights(List<Tensor> t) {
        this(t.get(0), t.get(1), t.get(2), t.get(3), t.get(4), t.get(5), t.get(6), t.get(7), t.get(8), t.get(9),
                t.get(10), t.get(11));
    }

    /** The twelve tensors in this record's order (null where a matrix is quantized). */
    public List<Tensor> tensors() {
        return Arrays.asList(ln1Weight, ln1Bias, attnWeight, attnBias, attnProjWeight, attnProjBias, ln2Weight, ln2Bias,
                fcWeight, fcBias, fcProjWeight, fcProjBias);
    }
}
