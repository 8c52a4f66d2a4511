package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.jgpt.io.Json;
import org.jgpt.kernel.Activations;
import org.jgpt.kernel.Backprop;
import org.jgpt.kernel.Matmul;
import org.jgpt.model.EncoderConfig;

/**
 * XLNet's permutation language model on a RoBERTa body: two-stream self-attention over a factorisation order, with
 * RoBERTa's absolute learned positions instead of XLNet's relative attention, and no memory. The content stream h is
 * a RoBERTa encoder whose every position sees the context tokens, itself, and the predicted tokens before it in the
 * order; the query stream g runs the same blocks (same parameters) from a learned {@code mask_emb} plus its own
 * position, its queries attending the content stream's keys and values of the tokens strictly before it in the
 * order, so it never sees its own token. RoBERTa's masked-LM head reads the query stream at the predicted positions.
 *
 * <p>The order is given by ranks ([batch × seqLen]): -1 for a context token (seen by every position, seeing no
 * predicted token), else the token's place in the order among the predicted ones. Saved as RoBERTa's tensors
 * (roberta.*, the body: the content stream), lm_head.* and {@code mask_emb} [1, hidden].
 */
public final class PermutationEncoder {
    /** The config.json key that marks a permutation LM's folder; transformers ignores it. */
    private static final String OBJECTIVE_KEY = "jgpt_objective";

    private final EncoderConfig config;
    private final int batch;
    private final int seqLen;
    private final int rows;
    private final float dropout;
    private final List<Parameter> parameters = new ArrayList<>();
    private final Parameter word, position, tokenType, embLnWeight, embLnBias, maskEmb;
    private final TransformerBlock.Stack contentStack, queryStack;
    private final TransformerBlock[] contentBlocks, queryBlocks;
    private final Parameter mlmDense, mlmDenseBias, mlmLnWeight, mlmLnBias, mlmBias;
    private final List<HfTensor> hfTensors = new ArrayList<>();

    // activations; each stream's [l] is the input of block l, [L] its output
    private final int[] tokens, positions, lengths;
    private final Stream content, query;
    // masked-LM head over the query stream's labelled rows
    private final int[] mlmRows, mlmTargets;
    private int mlmCount;
    private final float[] mlmIn, mlmHidden, mlmGelu, mlmNorm, mlmMean, mlmRstd, mlmLogits, mlmProbabilities, mlmLosses;
    private final float[] dMlmIn, dMlmHidden, dMlmGelu, dMlmNorm;
    private float lastLoss = Float.NaN;

    /** One stream's embeddings (before and after their LayerNorm), dropout mask and residual stream. */
    private record Stream(float[] embeddings, float[] mean, float[] rstd, float[] dropoutMask, float[][] residual) {
        Stream(int rows, int dim, int layers, boolean dropout) {
            this(new float[rows * dim], new float[rows], new float[rows], dropout ? new float[rows * dim] : null,
                    new float[layers + 1][rows * dim]);
        }
    }

    public PermutationEncoder(EncoderConfig config, int batch, int seqLen, float dropout) {
        if (seqLen > config.maxLength()) {
            throw new IllegalArgumentException("sequence length " + seqLen + " exceeds the encoder's " + config.maxLength());
        }
        this.config = config;
        this.batch = batch;
        this.seqLen = seqLen;
        this.rows = batch * seqLen;
        this.dropout = dropout;
        int c = config.hiddenSize();
        int v = config.vocabSize();
        Map<String, Parameter> byName = new LinkedHashMap<>();
        TransformerBlock.Parameters add = (name, shape) -> {
            Parameter p = new Parameter(name, shape);
            parameters.add(p);
            byName.put(name, p);
            return p;
        };
        word = add.get("roberta.embeddings.word_embeddings.weight", v, c);
        position = add.get("roberta.embeddings.position_embeddings.weight", config.maxPositionEmbeddings(), c);
        tokenType = add.get("roberta.embeddings.token_type_embeddings.weight", config.typeVocabSize(), c);
        embLnWeight = add.get("roberta.embeddings.LayerNorm.weight", c);
        embLnBias = add.get("roberta.embeddings.LayerNorm.bias", c);
        maskEmb = add.get("mask_emb", 1, c);
        contentStack = newStack();
        queryStack = newStack();
        contentStack.dQkvFromQueryStream = new float[rows * 3 * c];
        int layers = config.numLayers();
        contentBlocks = new TransformerBlock[layers];
        queryBlocks = new TransformerBlock[layers];
        float scale = (float) (1.0 / Math.sqrt(config.headDim()));
        for (int l = 0; l < layers; l++) {
            contentBlocks[l] = new TransformerBlock(l, contentStack, scale, add);
            queryBlocks[l] = new TransformerBlock(l, queryStack, scale, (name, shape) -> byName.get(name), contentBlocks[l]);
        }
        mlmDense = add.get("lm_head.dense.weight", c, c);
        mlmDenseBias = add.get("lm_head.dense.bias", c);
        mlmLnWeight = add.get("lm_head.layer_norm.weight", c);
        mlmLnBias = add.get("lm_head.layer_norm.bias", c);
        mlmBias = add.get("lm_head.bias", v);
        mapToHuggingFace();

        tokens = new int[rows];
        positions = new int[rows];
        lengths = new int[batch];
        content = new Stream(rows, c, layers, dropout > 0);
        query = new Stream(rows, c, layers, dropout > 0);
        contentStack.visible = new boolean[batch * seqLen * seqLen];
        queryStack.visible = new boolean[batch * seqLen * seqLen];
        mlmRows = new int[rows];
        mlmTargets = new int[rows];
        mlmIn = new float[rows * c];
        mlmHidden = new float[rows * c];
        mlmGelu = new float[rows * c];
        mlmNorm = new float[rows * c];
        mlmMean = new float[rows];
        mlmRstd = new float[rows];
        mlmLogits = new float[rows * v];
        mlmProbabilities = new float[rows * v];
        mlmLosses = new float[rows];
        dMlmIn = new float[rows * c];
        dMlmHidden = new float[rows * c];
        dMlmGelu = new float[rows * c];
        dMlmNorm = new float[rows * c];
    }

    private TransformerBlock.Stack newStack() {
        return new TransformerBlock.Stack(batch, seqLen, config.hiddenSize(), config.numHeads(),
                config.intermediateSize(), config.layerNormEps(), dropout, true, config.exactGelu());
    }

    /**
     * XLNet's attention masks from the ranks: key u of sequence b is visible to query t if it is not padding and it
     * is context (rank -1) or comes before t in the order; in the content stream t also sees itself.
     */
    static void visibility(boolean[] visible, int[] ranks, int[] lengths, int batch, int seqLen, boolean contentStream) {
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seqLen; t++) {
                int queryRank = ranks[b * seqLen + t];
                for (int u = 0; u < seqLen; u++) {
                    int keyRank = ranks[b * seqLen + u];
                    visible[(b * seqLen + t) * seqLen + u] = u < lengths[b]
                            && (keyRank < 0 || keyRank < queryRank || (contentStream && u == t));
                }
            }
        }
    }

    /** BERT's initialisation, as {@link TrainableEncoder#initialize}; {@code mask_emb} N(0, 0.02) as XLNet's. */
    public void initialize(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (Parameter p : parameters) {
            boolean gain = p.name().endsWith("LayerNorm.weight") || p.name().endsWith("layer_norm.weight")
                    || p.name().endsWith("ln_1.weight") || p.name().endsWith("ln_2.weight");
            if (gain) {
                Arrays.fill(p.value(), 1f);
            } else if (p.matrix()) {
                for (int i = 0; i < p.value().length; i++) p.value()[i] = (float) (random.nextGaussian() * 0.02);
            } else {
                Arrays.fill(p.value(), 0f);
            }
        }
        int c = config.hiddenSize();
        Arrays.fill(word.value(), config.padTokenId() * c, (config.padTokenId() + 1) * c, 0f);
        Arrays.fill(position.value(), config.padTokenId() * c, (config.padTokenId() + 1) * c, 0f);
    }

    public List<Parameter> parameters() {
        return List.copyOf(parameters);
    }

    public EncoderConfig config() {
        return config;
    }

    public void zeroGrad() {
        for (Parameter p : parameters) Arrays.fill(p.grad(), 0f);
    }

    /**
     * The training forward: {@code inputs} and {@code lengths} as {@link TrainableEncoder#forward}, the order in
     * {@code ranks}, and the mean cross-entropy of the query stream's predictions at the rows whose {@code labels}
     * entry is a token id (each must have a rank: a context row's query stream would see its own token).
     */
    public float forward(int[] inputs, int[] lengths, int[] ranks, int[] labels, long dropoutSeed) {
        return run(inputs, lengths, ranks, labels, true, dropoutSeed);
    }

    /** The same loss with dropout off: for validation. */
    public float evaluate(int[] inputs, int[] lengths, int[] ranks, int[] labels) {
        return run(inputs, lengths, ranks, labels, false, 0);
    }

    /** The last forward's logits at its labelled rows, in row order: [count, vocab]. */
    public float[] predictionLogits() {
        return Arrays.copyOf(mlmLogits, mlmCount * config.vocabSize());
    }

    /** How many labelled rows of the last forward the head ranked first. */
    public long correct() {
        int v = config.vocabSize();
        long correct = 0;
        for (int i = 0; i < mlmCount; i++) {
            int best = 0;
            for (int j = 1; j < v; j++) if (mlmLogits[i * v + j] > mlmLogits[i * v + best]) best = j;
            if (best == mlmTargets[i]) correct++;
        }
        return correct;
    }

    /** How many rows of the last forward had a label. */
    public int predicted() {
        return mlmCount;
    }

    private float run(int[] inputs, int[] lengthsIn, int[] ranks, int[] labels, boolean training, long seed) {
        if (inputs.length != rows || lengthsIn.length != batch || ranks.length != rows || labels.length != rows) {
            throw new IllegalArgumentException("expected " + rows + " inputs, ranks and labels and " + batch + " lengths");
        }
        int pad = config.padTokenId();
        for (int b = 0; b < batch; b++) {
            if (lengthsIn[b] < 1 || lengthsIn[b] > seqLen) throw new IllegalArgumentException("sequence length " + lengthsIn[b] + " out of 1.." + seqLen);
            lengths[b] = lengthsIn[b];
            int counted = 0; // Hugging Face's position ids, as TrainableEncoder's
            for (int t = 0; t < seqLen; t++) {
                int r = b * seqLen + t;
                if (inputs[r] < 0 || inputs[r] >= config.vocabSize()) throw new IllegalArgumentException("token id " + inputs[r] + " out of range");
                tokens[r] = inputs[r];
                positions[r] = inputs[r] == pad ? pad : pad + ++counted;
            }
        }
        mlmCount = 0;
        for (int r = 0; r < rows; r++) {
            if (labels[r] < 0) continue;
            if (labels[r] >= config.vocabSize()) throw new IllegalArgumentException("label " + labels[r] + " out of range");
            if (ranks[r] < 0) throw new IllegalArgumentException("row " + r + " has a label but no rank: its query stream would see its own token");
            mlmRows[mlmCount] = r;
            mlmTargets[mlmCount++] = labels[r];
        }
        visibility(contentStack.visible, ranks, lengths, batch, seqLen, true);
        visibility(queryStack.visible, ranks, lengths, batch, seqLen, false);
        contentStack.training = queryStack.training = training && dropout > 0;

        embed(content, false, seed);
        embed(query, true, seed + 7);
        for (int l = 0; l < contentBlocks.length; l++) {
            long layerSeed = seed + 1_000_003L * (l + 1);
            contentBlocks[l].forward(content.residual[l], content.residual[l + 1], layerSeed);
            queryBlocks[l].forward(query.residual[l], query.residual[l + 1], layerSeed + 7); // reads the content block's k, v
        }
        lastLoss = mlmCount == 0 ? 0f : maskedLmForward();
        return lastLoss;
    }

    /** LayerNorm(token or mask_emb + position + type 0), then dropout, into the stream's residual[0]. */
    private void embed(Stream s, boolean queryStream, long seed) {
        int c = config.hiddenSize();
        float[] w = word.value(), p = position.value(), type = tokenType.value(), mask = maskEmb.value();
        for (int r = 0; r < rows; r++) {
            int o = r * c, pb = positions[r] * c;
            float[] first = queryStream ? mask : w;
            int fb = queryStream ? 0 : tokens[r] * c;
            for (int i = 0; i < c; i++) s.embeddings[o + i] = first[fb + i] + p[pb + i] + type[i];
        }
        Backprop.layerNormForward(s.residual[0], s.mean, s.rstd, s.embeddings, embLnWeight.value(), embLnBias.value(),
                rows, c, config.layerNormEps());
        if (contentStack.training) {
            Backprop.dropoutMask(s.dropoutMask, rows * c, dropout, seed);
            Backprop.applyMask(s.residual[0], s.dropoutMask, rows * c);
        }
    }

    private void embedBackward(Stream s, float[] dOut, float[] scratch, boolean queryStream) {
        int c = config.hiddenSize();
        int n = rows * c;
        if (contentStack.training) Backprop.applyMask(dOut, s.dropoutMask, n);
        Arrays.fill(scratch, 0f);
        Backprop.layerNormBackward(scratch, embLnWeight.grad(), embLnBias.grad(), dOut, s.embeddings,
                embLnWeight.value(), s.mean, s.rstd, rows, c);
        int pad = config.padTokenId();
        float[] dWord = word.grad(), dPosition = position.grad(), dType = tokenType.grad(), dMask = maskEmb.grad();
        for (int r = 0; r < rows; r++) {
            int o = r * c;
            if (queryStream) Activations.add(dMask, 0, scratch, o, c);
            else if (tokens[r] != pad) Activations.add(dWord, tokens[r] * c, scratch, o, c); // padding_idx: no gradient
            if (positions[r] != pad) Activations.add(dPosition, positions[r] * c, scratch, o, c);
            Activations.add(dType, 0, scratch, o, c);
        }
    }

    /** Accumulates into each parameter's gradient that of {@code lossScale} × the last forward's loss. */
    public void backward(float lossScale) {
        if (Float.isNaN(lastLoss)) throw new IllegalStateException("backward() needs a forward() first");
        Arrays.fill(contentStack.dResidual, 0f);
        Arrays.fill(queryStack.dResidual, 0f);
        if (mlmCount > 0) maskedLmBackward(queryStack.dResidual, lossScale);
        for (int l = contentBlocks.length - 1; l >= 0; l--) {
            queryBlocks[l].backward(query.residual[l]); // first: it leaves the gradient of the content stream's k, v
            contentBlocks[l].backward(content.residual[l]);
        }
        embedBackward(query, queryStack.dResidual, queryStack.dC, true);
        embedBackward(content, contentStack.dResidual, contentStack.dC, false);
        lastLoss = Float.NaN;
    }

    /** RobertaLMHead on the query stream's labelled rows: dense, GELU, LayerNorm, tied decoder + bias, cross-entropy. */
    private float maskedLmForward() {
        int c = config.hiddenSize();
        int v = config.vocabSize();
        int n = mlmCount;
        float[] out = query.residual[queryBlocks.length];
        for (int i = 0; i < n; i++) System.arraycopy(out, mlmRows[i] * c, mlmIn, i * c, c);
        Matmul.forward(mlmHidden, mlmIn, mlmDense.tensor(), mlmDenseBias.value(), n, c, c);
        gelu(mlmGelu, mlmHidden, n * c);
        Backprop.layerNormForward(mlmNorm, mlmMean, mlmRstd, mlmGelu, mlmLnWeight.value(), mlmLnBias.value(), n, c,
                config.layerNormEps());
        Matmul.forwardTransposed(mlmLogits, mlmNorm, word.tensor(), n, c, v);
        for (int i = 0; i < n; i++) Activations.add(mlmLogits, i * v, mlmBias.value(), 0, v);
        System.arraycopy(mlmLogits, 0, mlmProbabilities, 0, n * v);
        return Backprop.crossEntropyForward(mlmLosses, mlmProbabilities, mlmTargets, n, v);
    }

    private void maskedLmBackward(float[] dOut, float lossScale) {
        int c = config.hiddenSize();
        int v = config.vocabSize();
        int n = mlmCount;
        float[] dLogits = mlmProbabilities;
        Backprop.crossEntropyBackward(dLogits, mlmTargets, n, v, lossScale);
        Backprop.biasGradient(mlmBias.grad(), dLogits, n, v);
        Matmul.forward(dMlmNorm, dLogits, word.tensor(), null, n, v, c);
        Matmul.backwardWeight(word.grad(), dLogits, mlmNorm, n, v, c);
        Arrays.fill(dMlmGelu, 0, n * c, 0f);
        Backprop.layerNormBackward(dMlmGelu, mlmLnWeight.grad(), mlmLnBias.grad(), dMlmNorm, mlmGelu, mlmLnWeight.value(),
                mlmMean, mlmRstd, n, c);
        Arrays.fill(dMlmHidden, 0, n * c, 0f);
        if (config.exactGelu()) Backprop.geluErfBackward(dMlmHidden, mlmHidden, dMlmGelu, n * c);
        else Backprop.geluBackward(dMlmHidden, mlmHidden, dMlmGelu, n * c);
        Matmul.backwardWeight(mlmDense.grad(), mlmIn, dMlmHidden, n, c, c);
        Backprop.biasGradient(mlmDenseBias.grad(), dMlmHidden, n, c);
        Matmul.backwardInput(dMlmIn, dMlmHidden, mlmDense.tensor(), n, c, c);
        for (int i = 0; i < n; i++) Activations.add(dOut, mlmRows[i] * c, dMlmIn, i * c, c);
    }

    private void gelu(float[] out, float[] in, int n) {
        if (config.exactGelu()) Activations.geluErf(out, in, n);
        else Activations.gelu(out, in, n);
    }

    // ---- saved layout: RoBERTa's tensors, lm_head, mask_emb ------------------------------------------------------

    private void mapToHuggingFace() {
        int c = config.hiddenSize();
        for (Parameter p : new Parameter[] {word, position, tokenType, embLnWeight, embLnBias}) hfTensors.add(HfTensor.whole(p.name(), p));
        for (int l = 0; l < contentBlocks.length; l++) hfTensors.addAll(HfTensor.bertLayer("roberta.encoder.layer." + l + ".", contentBlocks[l], c));
        hfTensors.addAll(HfTensor.linear("lm_head.dense", mlmDense, mlmDenseBias));
        for (Parameter p : new Parameter[] {mlmLnWeight, mlmLnBias, mlmBias, maskEmb}) hfTensors.add(HfTensor.whole(p.name(), p));
    }

    /** The parameters (or, with {@code gradients}, their gradients) as saved, by name, in Hugging Face's layout. */
    public Map<String, float[]> huggingFaceTensors(boolean gradients) {
        return HfTensor.read(hfTensors, gradients);
    }

    /**
     * Writes config.json (model_type roberta, architectures RobertaModel, and {@code jgpt_objective: plm}) and
     * model.safetensors. transformers loads the body as a RobertaModel (the content stream with nothing hidden) and
     * ignores lm_head and mask_emb; it cannot run the whole as XLNet, whose attention is relative.
     */
    public void save(Path dir) throws IOException {
        HfTensor.save(dir, hfTensors, config.toJson("RobertaModel", Map.of(OBJECTIVE_KEY, PermutationLm.NAME)));
    }

    /** Whether {@code dir}'s config.json marks it as a permutation LM's folder, as {@link #save} writes it. */
    public static boolean savedIn(Path dir) {
        return PermutationLm.NAME.equals(Json.parseFile(dir.resolve("config.json")).get(OBJECTIVE_KEY));
    }

    /** Reads every tensor back from {@code dir}; returns the names it lacks, leaving those parameters as they were. */
    public List<String> load(Path dir) {
        return HfTensor.load(dir, hfTensors);
    }
}
