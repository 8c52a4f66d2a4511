package org.jgpt.kernel;

/** Causal multi-head self-attention over one sequence's key/value cache. */
public final class Attention {
    private Attention() {}

    /**
     * Attention for {@code rows} new query rows at absolute positions {@code start .. start + rows - 1}.
     *
     * <p>Layouts, with {@code width = nHead * headDim} and head {@code h} at columns {@code h * headDim}:
     * {@code q} is {@code [rows, width]} read from {@code q[qOffset + r * qStride + ...]};
     * {@code keys} and {@code values} are {@code [capacity, width]} and already hold positions
     * {@code 0 .. start + rows - 1}; {@code out} is {@code [rows, width]} written at
     * {@code out[outOffset + r * outStride + ...]}. Query row {@code r} sees keys {@code 0 .. start + r}.
     * {@code scale} multiplies each q·k (usually {@code 1 / sqrt(headDim)}).
     */
    public static void causal(float[] out, int outOffset, int outStride, float[] q, int qOffset, int qStride,
                              float[] keys, float[] values, int rows, int start, int nHead, int headDim, float scale) {
        int width = nHead * headDim;
        Parallel.forEach(rows * nHead, task -> {
            int r = task / nHead;
            int h = task % nHead;
            int visible = start + r + 1;
            float[] scores = new float[visible];
            int qBase = qOffset + r * qStride + h * headDim;
            for (int t = 0; t < visible; t++) {
                float dot = 0f;
                int kBase = t * width + h * headDim;
                for (int d = 0; d < headDim; d++) dot += q[qBase + d] * keys[kBase + d];
                scores[t] = dot * scale;
            }
            Activations.softmax(scores, 0, visible);
            int oBase = outOffset + r * outStride + h * headDim;
            for (int d = 0; d < headDim; d++) out[oBase + d] = 0f;
            for (int t = 0; t < visible; t++) {
                float p = scores[t];
                int vBase = t * width + h * headDim;
                for (int d = 0; d < headDim; d++) out[oBase + d] += p * values[vBase + d];
            }
        });
    }
}
