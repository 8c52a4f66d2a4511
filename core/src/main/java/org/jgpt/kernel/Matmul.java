package org.jgpt.kernel;

/**
 * Matrix multiplies against weight tensors (F32, F16 or BF16), with float activations.
 * Row-major everywhere; {@code rows} is the number of token positions.
 */
public final class Matmul {
    private Matmul() {}

    /**
     * {@code out[r, o] = sum_i in[r, i] * weight[i, o] + bias[o]}, with {@code weight} of shape
     * {@code [inDim, outDim]} (the layout of GPT-2's Conv1D). {@code bias} may be null.
     */
    public static void forward(float[] out, float[] in, Tensor weight, float[] bias, int rows, int inDim, int outDim) {
        Parallel.forEach(rows, r -> {
            for (int o = 0; o < outDim; o++) {
                float sum = bias == null ? 0f : bias[o];
                for (int i = 0; i < inDim; i++) sum += in[r * inDim + i] * weight.get((long) i * outDim + o);
                out[r * outDim + o] = sum;
            }
        });
    }

    /**
     * {@code out[r, o] = sum_i in[r, i] * weight[o, i]}, with {@code weight} of shape {@code [outDim, inDim]}
     * (the layout of nn.Linear and of the tied LM head, the token embedding).
     */
    public static void forwardTransposed(float[] out, float[] in, Tensor weight, int rows, int inDim, int outDim) {
        Parallel.forEach(rows, r -> {
            for (int o = 0; o < outDim; o++) {
                float sum = 0f;
                for (int i = 0; i < inDim; i++) sum += in[r * inDim + i] * weight.get((long) o * inDim + i);
                out[r * outDim + o] = sum;
            }
        });
    }
}
