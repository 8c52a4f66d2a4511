package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.jgpt.io.Safetensors;
import org.jgpt.kernel.Activations;
import org.jgpt.kernel.Backprop;
import org.jgpt.kernel.Matmul;
import org.jgpt.kernel.Tensor;
import org.jgpt.model.ElectraConfig;
import org.jgpt.model.EncoderConfig;

/**
 * A RoBERTa encoder for training and inference: embeddings (token + position + type, LayerNorm, dropout), BERT's
 * post-LN blocks attending both ways within each sequence's length, and up to two heads: the masked-LM head (dense,
 * GELU, LayerNorm, the tied token embedding, a bias), run only on the positions that have a label, and a sentence head
 * on {@code <s>} (dense, tanh, a linear map to the classes), for sentence order, next sentence or a fine-tuned
 * classifier. One activation buffer per role for a fixed batch shape, as {@link TrainableGPT2}.
 *
 * <p>Matrices are kept in Conv1D's [in, out] layout, q, k and v side by side, so the blocks are GPT's; {@link #save}
 * and {@link #load} translate to Hugging Face's RobertaForMaskedLM / RobertaForSequenceClassification / RobertaModel
 * tensors (nn.Linear's [out, in], separate query, key and value).
 */
public final class TrainableEncoder implements SequenceClassifier {
    /** Labels at ignored positions, as in Hugging Face's collators; any negative label is ignored. */
    public static final int IGNORE = -100;

    /** The heads a model carries. {@code sentenceHead} is "sop_classifier", "classifier" or null. */
    public record Heads(boolean maskedLm, String sentenceHead, int sentenceClasses) {
        public Heads {
            if ((sentenceHead == null) != (sentenceClasses == 0) || sentenceClasses < 0) {
                throw new IllegalArgumentException("a sentence head needs two or more classes, and classes a head");
            }
        }

        /** Masked LM alone (mlm, wwm, span). */
        public static Heads maskedLmOnly() {
            return new Heads(true, null, 0);
        }

        /** Masked LM plus a two-way sentence-pair head (sentence order or next sentence). */
        public static Heads maskedLmAndSentencePairs() {
            return new Heads(true, "sop_classifier", 2);
        }

        /** The encoder alone, RobertaModel: sentence embeddings (contrastive objectives, embed). */
        public static Heads none() {
            return new Heads(false, null, 0);
        }

        /** RobertaForSequenceClassification's head over {@code classes} labels. */
        public static Heads classifier(int classes) {
            return new Heads(false, "classifier", classes);
        }
    }

    /**
     * Hugging Face's {@code token_type_ids} and {@code position_ids}, one per token ([batch × seqLen], row-major), in
     * place of RoBERTa's defaults (type 0 throughout; positions counting up from pad + 1 over the non-padding tokens,
     * pad for padding): for inputs of two segments each with its own type and positions, as XLM's translation LM.
     */
    public record Segments(int[] typeIds, int[] positionIds) {}

    private final EncoderConfig config;
    private final Heads heads;
    private final int batch;
    private final int seqLen;
    private final int rows;
    private final float dropout;
    private final List<Parameter> parameters = new ArrayList<>();
    private final Parameter word, position, tokenType, embLnWeight, embLnBias;
    private final TransformerBlock.Stack stack;
    private final TransformerBlock[] blocks;
    private final Parameter mlmDense, mlmDenseBias, mlmLnWeight, mlmLnBias, mlmBias;
    private final Parameter sentDense, sentDenseBias, sentOut, sentOutBias;
    private final Tensor wordTensor;
    private final List<HfTensor> hfTensors = new ArrayList<>();

    // activations
    private final int[] tokens;
    private final int[] positions;
    private final int[] types;
    private final int[] lengths;
    private final float[] embeddings; // before the embedding LayerNorm
    private final float[] embMean, embRstd, embMask;
    private final float[][] residual; // residual[l] is the input of block l; residual[L] the encoder's output
    // masked-LM head, over the selected rows only
    private final int[] mlmRows;
    private final int[] mlmTargets;
    private int mlmCount;
    private final float[] mlmIn, mlmHidden, mlmGelu, mlmNorm, mlmMean, mlmRstd, mlmLogits, mlmLosses;
    private final float[] mlmProbabilities; // then their gradient
    private final float[] dMlmIn, dMlmHidden, dMlmGelu, dMlmNorm;
    // sentence head, over each sequence's first position
    private final int[] sentTargets;
    private final float[] sentIn, sentInMask, sentHidden, sentTanh, sentTanhMask, sentLogits, sentLosses;
    private final float[] sentProbabilities; // then their gradient
    private final float[] dSentIn, dSentHidden, dSentTanh;

    private float lastLoss = Float.NaN;
    private float lastMlmLoss;
    private float lastSentenceLoss;
    private boolean mlmActive;
    private boolean sentenceActive;
    private boolean encoded; // the last forward was encode(), for backwardFromOutput

    public TrainableEncoder(EncoderConfig config, Heads heads, int batch, int seqLen, float dropout) {
        this(config, heads, batch, seqLen, dropout, null);
    }

    /** With {@code shared} (by name), the parameters are those of another encoder of the same config and heads. */
    private TrainableEncoder(EncoderConfig config, Heads heads, int batch, int seqLen, float dropout,
                             Map<String, Parameter> shared) {
        if (seqLen > config.maxLength()) {
            throw new IllegalArgumentException("sequence length " + seqLen + " exceeds the encoder's " + config.maxLength());
        }
        this.config = config;
        this.heads = heads;
        this.batch = batch;
        this.seqLen = seqLen;
        this.rows = batch * seqLen;
        this.dropout = dropout;
        int c = config.hiddenSize();
        int v = config.vocabSize();
        TransformerBlock.Parameters add = (name, shape) -> {
            Parameter p = shared == null ? new Parameter(name, shape) : shared.get(name);
            parameters.add(p);
            return p;
        };
        word = add.get("roberta.embeddings.word_embeddings.weight", v, c);
        position = add.get("roberta.embeddings.position_embeddings.weight", config.maxPositionEmbeddings(), c);
        tokenType = add.get("roberta.embeddings.token_type_embeddings.weight", config.typeVocabSize(), c);
        embLnWeight = add.get("roberta.embeddings.LayerNorm.weight", c);
        embLnBias = add.get("roberta.embeddings.LayerNorm.bias", c);
        stack = new TransformerBlock.Stack(batch, seqLen, c, config.numHeads(), config.intermediateSize(),
                config.layerNormEps(), dropout, true, config.exactGelu());
        blocks = new TransformerBlock[config.numLayers()];
        float scale = (float) (1.0 / Math.sqrt(config.headDim()));
        for (int l = 0; l < blocks.length; l++) blocks[l] = new TransformerBlock(l, stack, scale, add);
        if (heads.maskedLm()) {
            mlmDense = add.get("lm_head.dense.weight", c, c);
            mlmDenseBias = add.get("lm_head.dense.bias", c);
            mlmLnWeight = add.get("lm_head.layer_norm.weight", c);
            mlmLnBias = add.get("lm_head.layer_norm.bias", c);
            mlmBias = add.get("lm_head.bias", v);
        } else {
            mlmDense = mlmDenseBias = mlmLnWeight = mlmLnBias = mlmBias = null;
        }
        String s = heads.sentenceHead();
        if (s != null) {
            sentDense = add.get(s + ".dense.weight", c, c);
            sentDenseBias = add.get(s + ".dense.bias", c);
            sentOut = add.get(s + ".out_proj.weight", c, heads.sentenceClasses());
            sentOutBias = add.get(s + ".out_proj.bias", heads.sentenceClasses());
        } else {
            sentDense = sentDenseBias = sentOut = sentOutBias = null;
        }
        wordTensor = word.tensor();
        mapToHuggingFace();

        tokens = new int[rows];
        positions = new int[rows];
        types = new int[rows];
        lengths = new int[batch];
        embeddings = new float[rows * c];
        embMean = new float[rows];
        embRstd = new float[rows];
        embMask = dropout > 0 ? new float[rows * c] : null;
        residual = new float[blocks.length + 1][rows * c];
        int mlmCapacity = heads.maskedLm() ? rows : 0;
        mlmRows = new int[mlmCapacity];
        mlmTargets = new int[mlmCapacity];
        mlmIn = new float[mlmCapacity * c];
        mlmHidden = new float[mlmCapacity * c];
        mlmGelu = new float[mlmCapacity * c];
        mlmNorm = new float[mlmCapacity * c];
        mlmMean = new float[mlmCapacity];
        mlmRstd = new float[mlmCapacity];
        mlmLogits = new float[mlmCapacity * v];
        mlmProbabilities = new float[mlmCapacity * v];
        mlmLosses = new float[mlmCapacity];
        dMlmIn = new float[mlmCapacity * c];
        dMlmHidden = new float[mlmCapacity * c];
        dMlmGelu = new float[mlmCapacity * c];
        dMlmNorm = new float[mlmCapacity * c];
        int sentCapacity = s == null ? 0 : batch;
        int classes = heads.sentenceClasses();
        sentTargets = new int[sentCapacity];
        sentIn = new float[sentCapacity * c];
        sentInMask = new float[sentCapacity * c];
        sentHidden = new float[sentCapacity * c];
        sentTanh = new float[sentCapacity * c];
        sentTanhMask = new float[sentCapacity * c];
        sentLogits = new float[sentCapacity * classes];
        sentProbabilities = new float[sentCapacity * classes];
        sentLosses = new float[sentCapacity];
        dSentIn = new float[sentCapacity * c];
        dSentHidden = new float[sentCapacity * c];
        dSentTanh = new float[sentCapacity * c];
    }

    /**
     * The encoder saved in {@code dir} (config.json and model.safetensors in RoBERTa's layout) with {@code heads},
     * for batches of {@code batch} × {@code seqLen}. Every tensor must be there, unless {@code freshSentenceHead}:
     * then a sentence head the folder lacks starts from BERT's initialisation (fine-tuning a pre-trained encoder).
     */
    public static TrainableEncoder open(Path dir, Heads heads, int batch, int seqLen, float dropout,
                                        boolean freshSentenceHead, long seed) {
        Path configJson = requireEncoder(dir);
        TrainableEncoder model = new TrainableEncoder(EncoderConfig.load(configJson), heads, batch, seqLen, dropout);
        model.initialize(seed);
        model.loadPretrained(dir, freshSentenceHead);
        return model;
    }

    /**
     * Reads every tensor of this model from the encoder saved in {@code dir}; an error names one it lacks, unless
     * {@code freshSentenceHead} and that is the sentence head's, which then keeps its values.
     */
    public void loadPretrained(Path dir, boolean freshSentenceHead) {
        List<String> missing = load(dir);
        if (freshSentenceHead && heads.sentenceHead() != null) missing.removeIf(n -> n.startsWith(heads.sentenceHead() + "."));
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(dir + "/model.safetensors lacks " + missing.size() + " tensors, e.g. "
                    + missing.getFirst() + (missing.getFirst().startsWith("lm_head.") ? " (it has no masked-LM head)" : ""));
        }
    }

    /**
     * An encoder of another batch shape over this one's parameters (values and gradients shared, activations its
     * own): for inference on sequences of different lengths without a copy of the weights.
     */
    public TrainableEncoder reshaped(int batch, int seqLen, float dropout) {
        Map<String, Parameter> byName = new LinkedHashMap<>();
        for (Parameter p : parameters) byName.put(p.name(), p);
        return new TrainableEncoder(config, heads, batch, seqLen, dropout, byName);
    }

    /** {@code dir}'s config.json, if it describes an encoder; else an error that says what is needed. */
    public static Path requireEncoder(Path dir) {
        Path configJson = dir.resolve("config.json");
        if (!Files.isRegularFile(configJson)) throw new IllegalArgumentException(dir + " has no config.json");
        if (ElectraConfig.describes(configJson)) {
            throw new IllegalArgumentException(dir + " is an ELECTRA model, which jgpt only fine-tunes (finetune, classify):"
                    + " this needs a RoBERTa-layout model, e.g. one made by 'jgpt train --objective mlm'");
        }
        if (!EncoderConfig.describes(configJson)) {
            throw new IllegalArgumentException(dir + " is not an encoder (its config.json has no model_type roberta):"
                    + " this needs a RoBERTa-layout model, e.g. one made by 'jgpt train --objective mlm'");
        }
        return configJson;
    }

    /**
     * {@link #requireEncoder}, and an error for a permutation LM's folder: for the commands that fill {@code <mask>},
     * which that folder's lm_head, reading XLNet's query stream, never learned to.
     */
    public static Path requireMaskedLm(Path dir) {
        Path configJson = requireEncoder(dir);
        if (PermutationEncoder.savedIn(dir)) {
            throw new IllegalArgumentException(dir + " is a permutation-LM encoder ('jgpt train --objective plm'), not a"
                    + " masked LM: its lm_head predicts from XLNet's query stream and never learned to fill <mask>;"
                    + " finetune takes its RoBERTa body");
        }
        return configJson;
    }

    /** BERT's initialisation: N(0, 0.02) matrices and embeddings, zero biases, unit LayerNorm gains. */
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
        // Hugging Face zeroes the padding rows of both embedding tables (nn.Embedding's padding_idx)
        Arrays.fill(word.value(), config.padTokenId() * config.hiddenSize(), (config.padTokenId() + 1) * config.hiddenSize(), 0f);
        Arrays.fill(position.value(), config.padTokenId() * config.hiddenSize(), (config.padTokenId() + 1) * config.hiddenSize(), 0f);
    }

    public List<Parameter> parameters() {
        return List.copyOf(parameters);
    }

    public EncoderConfig config() {
        return config;
    }

    public Heads heads() {
        return heads;
    }

    public int batchSize() {
        return batch;
    }

    public int seqLen() {
        return seqLen;
    }

    public void zeroGrad() {
        for (Parameter p : parameters) Arrays.fill(p.grad(), 0f);
    }

    /**
     * The training forward over {@code inputs} ([batch × seqLen], right-padded; sequence b has {@code lengths[b]}
     * tokens): the mean masked-LM cross-entropy over the positions whose {@code mlmLabels} entry is a token id, plus
     * the sentence head's mean cross-entropy for {@code sentenceLabels} ([batch], or null). Either part is skipped
     * when it has no label. Keeps what {@link #backward} needs.
     */
    public float forward(int[] inputs, int[] lengths, int[] mlmLabels, int[] sentenceLabels, long dropoutSeed) {
        return run(inputs, lengths, null, mlmLabels, sentenceLabels, true, dropoutSeed);
    }

    /** {@link #forward} with the given token types and positions ({@code segments}; null for RoBERTa's). */
    public float forward(int[] inputs, int[] lengths, Segments segments, int[] mlmLabels, int[] sentenceLabels,
                         long dropoutSeed) {
        return run(inputs, lengths, segments, mlmLabels, sentenceLabels, true, dropoutSeed);
    }

    /** The sentence head's loss alone: {@link #forward} without masked-LM labels. */
    @Override
    public float sentenceLoss(int[] inputs, int[] lengths, int[] labels, long dropoutSeed) {
        return forward(inputs, lengths, null, labels, dropoutSeed);
    }

    /** The same loss with dropout off: for validation. */
    public float evaluate(int[] inputs, int[] lengths, int[] mlmLabels, int[] sentenceLabels) {
        return run(inputs, lengths, null, mlmLabels, sentenceLabels, false, 0);
    }

    /** {@link #evaluate} with the given token types and positions ({@code segments}; null for RoBERTa's). */
    public float evaluate(int[] inputs, int[] lengths, Segments segments, int[] mlmLabels, int[] sentenceLabels) {
        return run(inputs, lengths, segments, mlmLabels, sentenceLabels, false, 0);
    }

    /** The masked-LM part of the last forward's loss (0 when it had no label). */
    public float lastMaskedLmLoss() {
        return lastMlmLoss;
    }

    /** The sentence head's part of the last forward's loss (0 when it had no label). */
    public float lastSentenceLoss() {
        return lastSentenceLoss;
    }

    /** How many labelled positions of the last forward the masked-LM head ranked first. */
    public int maskedLmCorrect() {
        int correct = 0;
        int v = config.vocabSize();
        for (int i = 0; i < mlmCount; i++) if (argmax(mlmLogits, i * v, v) == mlmTargets[i]) correct++;
        return correct;
    }

    /** How many positions of the last forward had a masked-LM label. */
    public int maskedLmCount() {
        return mlmActive ? mlmCount : 0;
    }

    /**
     * The masked-LM logits ([atRows.length × vocab], in the order of {@code atRows}) at the given rows
     * (b × seqLen + t) of {@code inputs}, dropout off: for fill-mask. A copy.
     */
    public float[] maskedLmLogits(int[] inputs, int[] lengths, int[] atRows) {
        requireHead(heads.maskedLm(), "a masked-LM head");
        int[] labels = new int[rows];
        Arrays.fill(labels, IGNORE);
        for (int r : atRows) labels[r] = 0;
        run(inputs, lengths, null, labels, null, false, 0);
        int v = config.vocabSize();
        float[] logits = new float[atRows.length * v];
        for (int i = 0; i < atRows.length; i++) {
            int selected = Arrays.binarySearch(mlmRows, 0, mlmCount, atRows[i]);
            System.arraycopy(mlmLogits, selected * v, logits, i * v, v);
        }
        return logits;
    }

    /** The sentence head's logits ([batch × classes]) for {@code inputs}, dropout off. A copy. */
    public float[] sentenceLogits(int[] inputs, int[] lengths) {
        requireHead(heads.sentenceHead() != null, "a sentence head");
        run(inputs, lengths, null, null, null, false, 0);
        sentenceHeadForward(false, 0);
        return Arrays.copyOf(sentLogits, sentLogits.length);
    }

    /** The encoder's output ([batch × seqLen, hidden], before any head) of the last forward; a live view. */
    public float[] hidden() {
        return residual[blocks.length];
    }

    /**
     * The encoder alone over {@code inputs}, no head: its output [batch × seqLen, hidden] (a live view), with
     * dropout when {@code training}. Keeps what {@link #backwardFromOutput} needs.
     */
    public float[] encode(int[] inputs, int[] lengths, boolean training, long dropoutSeed) {
        runEncoder(inputs, lengths, null, training, dropoutSeed);
        mlmActive = false;
        sentenceActive = false;
        lastLoss = Float.NaN;
        encoded = true;
        return residual[blocks.length];
    }

    /** Accumulates into each parameter's gradient that of the last {@link #encode}, given its output's gradient. */
    public void backwardFromOutput(float[] dOutput) {
        if (!encoded) throw new IllegalStateException("backwardFromOutput() needs an encode() first");
        System.arraycopy(dOutput, 0, stack.dResidual, 0, rows * config.hiddenSize());
        encoderBackward();
        encoded = false;
    }

    private void requireHead(boolean present, String what) {
        if (!present) throw new IllegalStateException("this encoder has no " + what);
    }

    private float run(int[] inputs, int[] lengthsIn, Segments segments, int[] mlmLabels, int[] sentenceLabels,
                      boolean training, long seed) {
        runEncoder(inputs, lengthsIn, segments, training, seed);
        encoded = false;
        lastMlmLoss = 0f;
        lastSentenceLoss = 0f;
        mlmActive = false;
        sentenceActive = false;
        if (mlmLabels != null) {
            if (mlmLabels.length != rows) throw new IllegalArgumentException("expected " + rows + " masked-LM labels, got " + mlmLabels.length);
            mlmCount = 0;
            for (int r = 0; r < rows; r++) {
                if (mlmLabels[r] < 0) continue;
                if (mlmLabels[r] >= config.vocabSize()) throw new IllegalArgumentException("label " + mlmLabels[r] + " out of range");
                if (mlmCount == 0) requireHead(heads.maskedLm(), "a masked-LM head");
                mlmRows[mlmCount] = r;
                mlmTargets[mlmCount++] = mlmLabels[r];
            }
            if (mlmCount > 0) {
                mlmActive = true;
                lastMlmLoss = maskedLmForward();
            }
        }
        if (sentenceLabels != null) {
            requireHead(heads.sentenceHead() != null, "a sentence head");
            if (sentenceLabels.length != batch) {
                throw new IllegalArgumentException("expected " + batch + " sentence labels, got " + sentenceLabels.length);
            }
            for (int b = 0; b < batch; b++) {
                if (sentenceLabels[b] >= heads.sentenceClasses()) throw new IllegalArgumentException("sentence label " + sentenceLabels[b] + " out of range");
                sentTargets[b] = sentenceLabels[b];
            }
            sentenceActive = true;
            lastSentenceLoss = sentenceHeadForward(training, seed);
        }
        lastLoss = lastMlmLoss + lastSentenceLoss;
        return lastLoss;
    }

    private void runEncoder(int[] inputs, int[] lengthsIn, Segments segments, boolean training, long seed) {
        if (inputs.length != rows || lengthsIn.length != batch) {
            throw new IllegalArgumentException("expected " + rows + " inputs and " + batch + " lengths, got "
                    + inputs.length + " and " + lengthsIn.length);
        }
        if (segments != null && (segments.typeIds().length != rows || segments.positionIds().length != rows)) {
            throw new IllegalArgumentException("expected " + rows + " token types and positions, got "
                    + segments.typeIds().length + " and " + segments.positionIds().length);
        }
        int c = config.hiddenSize();
        int pad = config.padTokenId();
        for (int b = 0; b < batch; b++) {
            if (lengthsIn[b] < 1 || lengthsIn[b] > seqLen) throw new IllegalArgumentException("sequence length " + lengthsIn[b] + " out of 1.." + seqLen);
            lengths[b] = lengthsIn[b];
            // Hugging Face's position ids: non-padding tokens count up from pad + 1, padding sits at pad
            int counted = 0;
            for (int t = 0; t < seqLen; t++) {
                int r = b * seqLen + t;
                int id = inputs[r];
                if (id < 0 || id >= config.vocabSize()) throw new IllegalArgumentException("token id " + id + " out of range");
                tokens[r] = id;
                if (segments == null) {
                    positions[r] = id == pad ? pad : pad + ++counted;
                    types[r] = 0;
                } else {
                    positions[r] = segments.positionIds()[r];
                    types[r] = segments.typeIds()[r];
                    if (positions[r] < 0 || positions[r] >= config.maxPositionEmbeddings()) {
                        throw new IllegalArgumentException("position id " + positions[r] + " out of range");
                    }
                    if (types[r] < 0 || types[r] >= config.typeVocabSize()) {
                        throw new IllegalArgumentException("token type " + types[r] + " out of 0.." + (config.typeVocabSize() - 1));
                    }
                }
            }
        }
        stack.training = training && dropout > 0;
        stack.keyLengths = lengths;
        float[] w = word.value(), p = position.value(), type = tokenType.value();
        for (int r = 0; r < rows; r++) {
            int wb = tokens[r] * c, pb = positions[r] * c, tb = types[r] * c, o = r * c;
            for (int i = 0; i < c; i++) embeddings[o + i] = w[wb + i] + p[pb + i] + type[tb + i];
        }
        Backprop.layerNormForward(residual[0], embMean, embRstd, embeddings, embLnWeight.value(), embLnBias.value(),
                rows, c, config.layerNormEps());
        if (stack.training) {
            Backprop.dropoutMask(embMask, rows * c, dropout, seed);
            Backprop.applyMask(residual[0], embMask, rows * c);
        }
        for (int l = 0; l < blocks.length; l++) {
            blocks[l].forward(residual[l], residual[l + 1], seed + 1_000_003L * (l + 1));
            if (!training) Tensor.requireFinite(residual[l + 1], rows * c, "layer " + l);
        }
    }

    /** dense, GELU, LayerNorm, tied decoder + bias, cross-entropy: over the labelled rows only. */
    private float maskedLmForward() {
        int c = config.hiddenSize();
        int v = config.vocabSize();
        int n = mlmCount;
        float[] out = residual[blocks.length];
        for (int i = 0; i < n; i++) System.arraycopy(out, mlmRows[i] * c, mlmIn, i * c, c);
        Matmul.forward(mlmHidden, mlmIn, mlmDense.tensor(), mlmDenseBias.value(), n, c, c);
        gelu(mlmGelu, mlmHidden, n * c);
        Backprop.layerNormForward(mlmNorm, mlmMean, mlmRstd, mlmGelu, mlmLnWeight.value(), mlmLnBias.value(), n, c,
                config.layerNormEps());
        Matmul.forwardTransposed(mlmLogits, mlmNorm, wordTensor, n, c, v);
        for (int i = 0; i < n; i++) Activations.add(mlmLogits, i * v, mlmBias.value(), 0, v);
        System.arraycopy(mlmLogits, 0, mlmProbabilities, 0, n * v);
        return Backprop.crossEntropyForward(mlmLosses, mlmProbabilities, mlmTargets, n, v);
    }

    /** RobertaClassificationHead on each sequence's {@code <s>}: dropout, dense, tanh, dropout, out_proj. */
    private float sentenceHeadForward(boolean training, long seed) {
        int c = config.hiddenSize();
        int classes = heads.sentenceClasses();
        float[] out = residual[blocks.length];
        for (int b = 0; b < batch; b++) System.arraycopy(out, b * seqLen * c, sentIn, b * c, c);
        boolean drop = training && dropout > 0;
        if (drop) {
            Backprop.dropoutMask(sentInMask, batch * c, dropout, seed + 7);
            Backprop.applyMask(sentIn, sentInMask, batch * c);
        }
        Matmul.forward(sentHidden, sentIn, sentDense.tensor(), sentDenseBias.value(), batch, c, c);
        for (int i = 0; i < batch * c; i++) sentTanh[i] = (float) Math.tanh(sentHidden[i]);
        if (drop) {
            Backprop.dropoutMask(sentTanhMask, batch * c, dropout, seed + 8);
            Backprop.applyMask(sentTanh, sentTanhMask, batch * c);
        }
        Matmul.forward(sentLogits, sentTanh, sentOut.tensor(), sentOutBias.value(), batch, c, classes);
        if (!sentenceActive) return 0f;
        System.arraycopy(sentLogits, 0, sentProbabilities, 0, batch * classes);
        return Backprop.crossEntropyForward(sentLosses, sentProbabilities, sentTargets, batch, classes);
    }

    /** Accumulates into each parameter's gradient that of {@code lossScale} × the last forward's loss. */
    public void backward(float lossScale) {
        if (Float.isNaN(lastLoss)) throw new IllegalStateException("backward() needs a forward() first");
        float[] dOut = stack.dResidual;
        Arrays.fill(dOut, 0f);
        if (mlmActive) maskedLmBackward(dOut, lossScale);
        if (sentenceActive) sentenceHeadBackward(dOut, lossScale);
        encoderBackward();
        lastLoss = Float.NaN;
    }

    /** From the stack's dResidual, the gradient of the encoder's output, to every encoder parameter's. */
    private void encoderBackward() {
        int c = config.hiddenSize();
        int n = rows * c;
        float[] dOut = stack.dResidual;
        for (int l = blocks.length - 1; l >= 0; l--) blocks[l].backward(residual[l]);
        if (stack.training) Backprop.applyMask(dOut, embMask, n);
        float[] dEmbeddings = stack.dC;
        Arrays.fill(dEmbeddings, 0f);
        Backprop.layerNormBackward(dEmbeddings, embLnWeight.grad(), embLnBias.grad(), dOut, embeddings,
                embLnWeight.value(), embMean, embRstd, rows, c);
        int pad = config.padTokenId();
        float[] dWord = word.grad(), dPosition = position.grad(), dType = tokenType.grad();
        for (int r = 0; r < rows; r++) {
            int o = r * c;
            // nn.Embedding(padding_idx): the padding rows get no gradient from the lookup
            if (tokens[r] != pad) for (int i = 0; i < c; i++) dWord[tokens[r] * c + i] += dEmbeddings[o + i];
            if (positions[r] != pad) for (int i = 0; i < c; i++) dPosition[positions[r] * c + i] += dEmbeddings[o + i];
            for (int i = 0; i < c; i++) dType[types[r] * c + i] += dEmbeddings[o + i];
        }
    }

    private void maskedLmBackward(float[] dOut, float lossScale) {
        int c = config.hiddenSize();
        int v = config.vocabSize();
        int n = mlmCount;
        float[] dLogits = mlmProbabilities;
        Backprop.crossEntropyBackward(dLogits, mlmTargets, n, v, lossScale);
        Backprop.biasGradient(mlmBias.grad(), dLogits, n, v);
        Matmul.forward(dMlmNorm, dLogits, wordTensor, null, n, v, c);
        Matmul.backwardWeight(word.grad(), dLogits, mlmNorm, n, v, c);
        Arrays.fill(dMlmGelu, 0, n * c, 0f);
        Backprop.layerNormBackward(dMlmGelu, mlmLnWeight.grad(), mlmLnBias.grad(), dMlmNorm, mlmGelu, mlmLnWeight.value(),
                mlmMean, mlmRstd, n, c);
        Arrays.fill(dMlmHidden, 0, n * c, 0f);
        geluBackward(dMlmHidden, mlmHidden, dMlmGelu, n * c);
        Matmul.backwardWeight(mlmDense.grad(), mlmIn, dMlmHidden, n, c, c);
        Backprop.biasGradient(mlmDenseBias.grad(), dMlmHidden, n, c);
        Matmul.backwardInput(dMlmIn, dMlmHidden, mlmDense.tensor(), n, c, c);
        for (int i = 0; i < n; i++) Activations.add(dOut, mlmRows[i] * c, dMlmIn, i * c, c);
    }

    private void sentenceHeadBackward(float[] dOut, float lossScale) {
        int c = config.hiddenSize();
        int classes = heads.sentenceClasses();
        int n = batch * c;
        float[] dLogits = sentProbabilities;
        Backprop.crossEntropyBackward(dLogits, sentTargets, batch, classes, lossScale);
        Matmul.backwardWeight(sentOut.grad(), sentTanh, dLogits, batch, c, classes);
        Backprop.biasGradient(sentOutBias.grad(), dLogits, batch, classes);
        Matmul.backwardInput(dSentTanh, dLogits, sentOut.tensor(), batch, c, classes);
        if (stack.training) Backprop.applyMask(dSentTanh, sentTanhMask, n);
        for (int i = 0; i < n; i++) {
            float t = (float) Math.tanh(sentHidden[i]);
            dSentHidden[i] = dSentTanh[i] * (1 - t * t);
        }
        Matmul.backwardWeight(sentDense.grad(), sentIn, dSentHidden, batch, c, c);
        Backprop.biasGradient(sentDenseBias.grad(), dSentHidden, batch, c);
        Matmul.backwardInput(dSentIn, dSentHidden, sentDense.tensor(), batch, c, c);
        if (stack.training) Backprop.applyMask(dSentIn, sentInMask, n);
        for (int b = 0; b < batch; b++) Activations.add(dOut, b * seqLen * c, dSentIn, b * c, c);
    }

    // ---- Hugging Face's layout --------------------------------------------------------------------------------

    private void mapToHuggingFace() {
        int c = config.hiddenSize();
        for (Parameter p : new Parameter[] {word, position, tokenType, embLnWeight, embLnBias}) whole(p.name(), p);
        for (int l = 0; l < blocks.length; l++) hfTensors.addAll(HfTensor.bertLayer("roberta.encoder.layer." + l + ".", blocks[l], c));
        if (heads.maskedLm()) {
            linear("lm_head.dense", mlmDense, mlmDenseBias);
            for (Parameter p : new Parameter[] {mlmLnWeight, mlmLnBias, mlmBias}) whole(p.name(), p);
        }
        if (heads.sentenceHead() != null) {
            linear(heads.sentenceHead() + ".dense", sentDense, sentDenseBias);
            linear(heads.sentenceHead() + ".out_proj", sentOut, sentOutBias);
        }
    }

    private void whole(String name, Parameter p) {
        hfTensors.add(HfTensor.whole(name, p));
    }

    private void linear(String name, Parameter weight, Parameter bias) {
        hfTensors.addAll(HfTensor.linear(name, weight, bias));
    }

    /** The parameters (or, with {@code gradients}, their gradients) as Hugging Face names them, in its layout. */
    public Map<String, float[]> huggingFaceTensors(boolean gradients) {
        return HfTensor.read(hfTensors, gradients);
    }

    /** The architecture that transformers builds from what {@link #save} writes. */
    public String architecture() {
        if (heads.maskedLm()) return "RobertaForMaskedLM";
        return heads.sentenceHead() != null ? "RobertaForSequenceClassification" : "RobertaModel";
    }

    /**
     * Writes {@code config.json} ({@code configExtra} added to the model's keys, e.g. labels) and
     * {@code model.safetensors} into {@code dir}, each file whole or not at all. The tied decoder is not written,
     * as transformers leaves it out; a sentence-order head is written as {@code sop_classifier.*}, which
     * transformers ignores.
     */
    public void save(Path dir, Map<String, Object> configExtra) throws IOException {
        HfTensor.save(dir, hfTensors, config.toJson(architecture(), configExtra));
    }

    /**
     * Reads every tensor of this model that {@code dir}'s model.safetensors holds, by Hugging Face's names; returns
     * the names it lacks (a pre-trained encoder has no classifier yet), leaving those parameters as they were.
     */
    public List<String> load(Path dir) {
        List<String> missing = new ArrayList<>();
        try (Safetensors file = Safetensors.open(dir.resolve("model.safetensors"))) {
            for (HfTensor t : hfTensors) {
                if (!file.names().contains(t.name())) {
                    missing.add(t.name());
                } else if (t.parameter() == tokenType) {
                    loadTokenTypes(HfTensor.finite(file, t.name()));
                } else {
                    t.write(HfTensor.finite(file, t.name()), t.parameter().value());
                }
            }
        }
        return missing;
    }

    /**
     * The token-type table, from one with as many types or fewer: a masked-LM encoder's single type widened for
     * TLM's two languages. Each added type starts as a copy of type 0, so that the wider model starts out computing
     * what the saved one did.
     */
    private void loadTokenTypes(Tensor saved) {
        int c = config.hiddenSize();
        long[] shape = saved.shape();
        if (shape.length != 2 || shape[1] != c || shape[0] < 1 || shape[0] > config.typeVocabSize()) {
            throw new IllegalArgumentException(tokenType.name() + " has shape " + Arrays.toString(shape) + ", expected ["
                    + config.typeVocabSize() + ", " + c + "] or fewer types");
        }
        float[] value = tokenType.value();
        for (int k = 0; k < shape[0] * c; k++) value[k] = saved.get(k);
        for (int type = (int) shape[0]; type < config.typeVocabSize(); type++) System.arraycopy(value, 0, value, type * c, c);
    }

    private void gelu(float[] out, float[] in, int n) {
        if (config.exactGelu()) Activations.geluErf(out, in, n);
        else Activations.gelu(out, in, n);
    }

    private void geluBackward(float[] dIn, float[] in, float[] dOut, int n) {
        if (config.exactGelu()) Backprop.geluErfBackward(dIn, in, dOut, n);
        else Backprop.geluBackward(dIn, in, dOut, n);
    }

    private static int argmax(float[] x, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (x[offset + i] > x[offset + best]) best = i;
        return best;
    }
}
