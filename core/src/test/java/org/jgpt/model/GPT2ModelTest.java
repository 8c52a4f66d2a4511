package org.jgpt.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jgpt.kernel.Tensor;
import org.junit.jupiter.api.Test;

/**
 * GPT2Model against {@link NaiveGPT2}, a cache-free double-precision forward, on tiny random models: full prefill,
 * token-by-token decoding through the KV cache, and a ragged batch. Tolerance 1e-4 on every logit (the float/double
 * gap on these sizes is around 1e-6).
 */
class GPT2ModelTest {
    private static final double TOLERANCE = 1e-4;
    private static final GPT2Config CONFIG = TinyModels.config(61, 24, 16, 3, 4, false);
    private static final GPT2Weights WEIGHTS = TinyModels.random(CONFIG, 7);
    private static final int[] TOKENS = {3, 14, 15, 9, 26, 53, 58, 9, 7, 9, 32, 38, 46, 26, 43, 3, 8, 32, 7, 9};

    @Test
    void activationsThatOverflowAreAnErrorNamingTheLayer() {
        LayerWeights w = WEIGHTS.layers().get(1);
        int c = CONFIG.nEmbd(), inner = CONFIG.innerDim();
        float[] hugeBias = new float[inner], ones = new float[inner * c];
        Arrays.fill(hugeBias, 3e38f);
        Arrays.fill(ones, 1f);
        LayerWeights overflowing = new LayerWeights(w.ln1Weight(), w.ln1Bias(), w.attnWeight(), w.attnBias(),
                w.attnProjWeight(), w.attnProjBias(), w.ln2Weight(), w.ln2Bias(), w.fcWeight(),
                Tensor.of("h.1.mlp.c_fc.bias", hugeBias, inner), Tensor.of("h.1.mlp.c_proj.weight", ones, inner, c),
                w.fcProjBias());
        List<LayerWeights> layers = new ArrayList<>(WEIGHTS.layers());
        layers.set(1, overflowing);
        GPT2Weights weights = new GPT2Weights(CONFIG, WEIGHTS.wte(), WEIGHTS.wpe(), layers, WEIGHTS.lnFWeight(),
                WEIGHTS.lnFBias(), WEIGHTS.lmHead(), null);
        GPT2Model model = new GPT2Model(weights);
        ArithmeticException e = assertThrows(ArithmeticException.class, () -> model.forward(new int[][] {{3, 14, 15}},
                new KVCache[] {model.newCache(3)}, new float[CONFIG.vocabSize()]));
        assertTrue(e.getMessage().contains("layer 1 (h.1)"), e.getMessage());
    }

    @Test
    void prefillMatchesNaiveForwardOnEveryRow() {
        assertPrefillMatches(new GPT2Model(WEIGHTS), WEIGHTS);
    }

    @Test
    void inverseLayerIndexScalingMatchesNaiveForward() {
        GPT2Weights weights = TinyModels.random(TinyModels.config(61, 24, 16, 3, 4, true), 11);
        assertPrefillMatches(new GPT2Model(weights), weights);
    }

    private static void assertPrefillMatches(GPT2Model model, GPT2Weights weights) {
        int vocab = weights.config().vocabSize();
        float[] logits = new float[TOKENS.length * vocab];
        model.forward(new int[][] {TOKENS}, new KVCache[] {model.newCache(TOKENS.length)},
                new int[] {TOKENS.length}, logits);
        double[][] expected = NaiveGPT2.logits(weights, TOKENS);
        for (int t = 0; t < TOKENS.length; t++) assertRow(expected[t], logits, t, vocab, "row " + t);
    }

    @Test
    void tokenByTokenDecodingMatchesNaiveForward() {
        GPT2Model model = new GPT2Model(WEIGHTS);
        int vocab = CONFIG.vocabSize();
        KVCache cache = model.newCache(CONFIG.nPositions());
        double[][] expected = NaiveGPT2.logits(WEIGHTS, TOKENS);
        float[] logits = new float[vocab];
        for (int t = 0; t < TOKENS.length; t++) {
            model.forward(new int[][] {{TOKENS[t]}}, new KVCache[] {cache}, logits);
            assertRow(expected[t], logits, 0, vocab, "step " + t);
        }
        assertEquals(TOKENS.length, cache.length());
    }

    @Test
    void raggedBatchMatchesEachSequenceAlone() {
        GPT2Model model = new GPT2Model(WEIGHTS);
        int vocab = CONFIG.vocabSize();
        // Sequence 0 already holds 5 tokens in its cache; 1 is new; 2 feeds nothing that needs logits.
        KVCache[] caches = {model.newCache(20), model.newCache(20), model.newCache(20)};
        model.forward(new int[][] {Arrays.copyOf(TOKENS, 5)}, new KVCache[] {caches[0]}, new float[vocab]);
        int[][] fed = {Arrays.copyOfRange(TOKENS, 5, 12), {40, 2, 17}, {5, 6}};
        int[] logitRows = {3, 3, 0};
        float[] logits = new float[6 * vocab];
        model.forward(fed, caches, logitRows, logits);

        double[][] first = NaiveGPT2.logits(WEIGHTS, Arrays.copyOf(TOKENS, 12));
        for (int i = 0; i < 3; i++) assertRow(first[9 + i], logits, i, vocab, "sequence 0, row " + i);
        double[][] second = NaiveGPT2.logits(WEIGHTS, fed[1]);
        for (int i = 0; i < 3; i++) assertRow(second[i], logits, 3 + i, vocab, "sequence 1, row " + i);
        assertEquals(12, caches[0].length());
        assertEquals(2, caches[2].length());
    }

    @Test
    void copiedCacheContinuesLikeTheOriginal() {
        GPT2Model model = new GPT2Model(WEIGHTS);
        int vocab = CONFIG.vocabSize();
        KVCache original = model.newCache(10);
        model.forward(new int[][] {Arrays.copyOf(TOKENS, 6)}, new KVCache[] {original}, new float[vocab]);
        KVCache copy = model.newCache(10);
        copy.copyFrom(original);
        float[] logits = new float[vocab];
        model.forward(new int[][] {{TOKENS[6]}}, new KVCache[] {copy}, logits);
        assertRow(NaiveGPT2.logits(WEIGHTS, Arrays.copyOf(TOKENS, 7))[6], logits, 0, vocab, "copy");
    }

    @Test
    void truncatedCacheContinuesFromItsPrefix() {
        GPT2Model model = new GPT2Model(WEIGHTS);
        int vocab = CONFIG.vocabSize();
        KVCache cache = model.newCache(10);
        model.forward(new int[][] {Arrays.copyOf(TOKENS, 8)}, new KVCache[] {cache}, new float[vocab]);
        cache.truncate(4);
        float[] logits = new float[vocab];
        model.forward(new int[][] {{50, 51}}, new KVCache[] {cache}, logits);
        int[] expected = {TOKENS[0], TOKENS[1], TOKENS[2], TOKENS[3], 50, 51};
        assertRow(NaiveGPT2.logits(WEIGHTS, expected)[5], logits, 0, vocab, "after truncation");
        assertThrows(IllegalArgumentException.class, () -> cache.truncate(7));
    }

    @Test
    void positionsBeyondTheContextAreRejected() {
        GPT2Model model = new GPT2Model(WEIGHTS);
        KVCache cache = model.newCache(CONFIG.nPositions());
        float[] logits = new float[CONFIG.vocabSize()];
        model.forward(new int[][] {new int[20]}, new KVCache[] {cache}, logits);
        var error = assertThrows(IllegalArgumentException.class,
                () -> model.forward(new int[][] {new int[5]}, new KVCache[] {cache}, logits));
        assertTrue(error.getMessage().contains("context of 24"), error.getMessage());
        assertEquals(20, cache.length(), "a rejected forward leaves the cache as it was");
        assertThrows(IllegalArgumentException.class, () -> model.newCache(25));
    }

    @Test
    void tokenIdsOutsideTheVocabularyAreRejected() {
        GPT2Model model = new GPT2Model(WEIGHTS);
        var error = assertThrows(IllegalArgumentException.class, () -> model.forward(new int[][] {{1, 61}},
                new KVCache[] {model.newCache(4)}, new float[CONFIG.vocabSize()]));
        assertTrue(error.getMessage().contains("token id 61"), error.getMessage());
    }

    private static void assertRow(double[] expected, float[] logits, int row, int vocab, String what) {
        double maxError = 0;
        for (int v = 0; v < vocab; v++) maxError = Math.max(maxError, Math.abs(expected[v] - logits[row * vocab + v]));
        assertTrue(maxError <= TOLERANCE, what + ": max |Δlogit| " + maxError);
    }
}
