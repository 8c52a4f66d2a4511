package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.jgpt.model.EncoderConfig;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.RobertaTokens;

/**
 * Sentence embeddings learnt contrastively on a RoBERTa encoder with no head ({@link ContrastiveLoss} on pooled
 * outputs). {@code simcse} is unsupervised SimCSE: each sentence goes through the encoder twice, and the two
 * dropout masks make the two views of it. {@code contrastive-pairs} is sentence-transformers'
 * MultipleNegativesRankingLoss: the anchor of a pair against its positive. A micro-batch is {@code batch} records,
 * run as one encoder batch of 2 × batch sequences: the anchors, then their positives. Records are drawn without
 * replacement, a new order each epoch, from (seed, epoch); the epoch's last records that do not fill a batch wait
 * for the next one.
 */
final class Contrastive implements Objective {
    static final String SIMCSE = "simcse";
    static final String PAIRS = "contrastive-pairs";

    private final TrainConfig config;
    private final Pooling pooling;
    private final int pad;
    private final TrainableEncoder model;
    private final ContrastiveStep step;
    private final int[][] trainAnchors, trainPositives, heldOutAnchors, heldOutPositives;
    private int truncated; // texts cut to the sequence length
    private final int[] inputs;
    private final int[] lengths;
    private final EpochOrder order;

    Contrastive(EncoderConfig modelConfig, TrainConfig config, GPT2Tokenizer tokenizer) {
        this.config = config;
        this.pooling = Pooling.parse(config.pooling());
        RobertaTokens special = RobertaTokens.of(tokenizer);
        if (modelConfig.vocabSize() < tokenizer.vocabSize()) {
            throw new IllegalArgumentException("the encoder's vocabulary (" + modelConfig.vocabSize()
                    + ") is smaller than the tokenizer's (" + tokenizer.vocabSize() + ")");
        }
        boolean pairs = config.objective().equals(PAIRS);
        ContrastiveData.Split split = ContrastiveData.read(Path.of(config.data()), config.fields(), pairs);
        int b = config.batchSize();
        if (split.train().size() < b) {
            throw new IllegalArgumentException(config.data() + " has " + split.train().size()
                    + " training records, fewer than a batch of " + b);
        }
        int t = config.seqLen();
        this.pad = special.pad();
        trainAnchors = frame(split.train(), ContrastiveData.Pair::anchor, tokenizer, special);
        heldOutAnchors = frame(split.heldOut(), ContrastiveData.Pair::anchor, tokenizer, special);
        // a sentence's two views are the same tokens
        trainPositives = pairs ? frame(split.train(), ContrastiveData.Pair::positive, tokenizer, special) : trainAnchors;
        heldOutPositives = pairs ? frame(split.heldOut(), ContrastiveData.Pair::positive, tokenizer, special) : heldOutAnchors;
        this.model = new TrainableEncoder(modelConfig, TrainableEncoder.Heads.none(), 2 * b, t, (float) config.dropout());
        this.step = new ContrastiveStep(model, pooling, (float) config.temperature());
        this.inputs = new int[2 * b * t];
        this.lengths = new int[2 * b];
        this.order = new EpochOrder(trainAnchors.length, config.seed() ^ 0x2545F4914F6CDD1DL);
    }

    private int[][] frame(List<ContrastiveData.Pair> records, Function<ContrastiveData.Pair, String> side,
                          GPT2Tokenizer tokenizer, RobertaTokens special) {
        int[][] framed = new int[records.size()][];
        for (int i = 0; i < framed.length; i++) {
            int[] ids = tokenizer.encode(side.apply(records.get(i)));
            if (ids.length > config.seqLen() - 2) truncated++;
            framed[i] = SentenceEncoder.frame(special, ids, config.seqLen());
        }
        return framed;
    }

    TrainableEncoder model() {
        return model;
    }

    @Override
    public List<Parameter> parameters() {
        return model.parameters();
    }

    @Override
    public void initialize(long seed) {
        model.initialize(seed);
    }

    @Override
    public Trained trainOn(long index, float lossScale, long dropoutSeed) {
        fill(trainAnchors, trainPositives, order.batch(index, config.batchSize()));
        float loss = step.forward(inputs, lengths, true, dropoutSeed);
        step.backward(lossScale);
        return new Trained(loss, Arrays.stream(lengths).asLongStream().sum()); // both views of a simcse sentence count
    }

    /** Rows 0..b-1 the records' anchors, rows b..2b-1 their positives, each padded to the sequence length. */
    private void fill(int[][] anchors, int[][] positives, int[] records) {
        int b = records.length, t = config.seqLen();
        Arrays.fill(inputs, pad);
        for (int i = 0; i < b; i++) {
            put(i, anchors[records[i]], t);
            put(b + i, positives[records[i]], t);
        }
    }

    private void put(int row, int[] ids, int t) {
        System.arraycopy(ids, 0, inputs, row * t, ids.length);
        lengths[row] = ids.length;
    }

    /**
     * The loss and in-batch top-1 accuracy over consecutive batches of the held-out records. Dropout is off for
     * contrastive-pairs; for simcse, whose two views would otherwise be one, it is on, with the same masks at every
     * validation, so that the figures compare across steps.
     */
    @Override
    public Optional<Validation> validate(int batches) {
        int b = config.batchSize();
        int count = Math.min(batches, heldOutAnchors.length / b);
        if (count == 0) return Optional.empty();
        boolean simcse = config.objective().equals(SIMCSE);
        double sum = 0;
        long correct = 0;
        for (int v = 0; v < count; v++) {
            int first = v * b;
            fill(heldOutAnchors, heldOutPositives, IntStream.range(first, first + b).toArray());
            sum += step.forward(inputs, lengths, simcse, BatchLoader.mix(config.seed() ^ 0x5DEECE66DL, -1 - v));
            correct += step.correct();
        }
        return Optional.of(new Validation(sum / count, (double) correct / ((long) count * b)));
    }

    @Override
    public String lossName() {
        return "InfoNCE loss (nats / sentence)";
    }

    @Override
    public String accuracyName() {
        return "in-batch top-1 accuracy";
    }

    @Override
    public void saveModel(Path dir) throws IOException {
        model.save(dir, Map.of(Pooling.CONFIG_KEY, pooling.key()));
    }

    @Override
    public void loadModel(Path dir) throws IOException {
        List<String> missing = model.load(dir);
        if (!missing.isEmpty()) throw new IOException(dir + " lacks tensors " + missing);
    }

    @Override
    public String describe() {
        String unit = config.objective().equals(PAIRS) ? "pairs" : "sentences";
        return String.format(Locale.ROOT, "%s, %s pooling, temperature %s, %,d training and %,d held-out %s (%,d texts"
                        + " cut to %d tokens), %s", config.objective(), pooling.key(), config.temperature(),
                trainAnchors.length, heldOutAnchors.length, unit, truncated, config.seqLen(), model.config());
    }
}
