package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.jgpt.model.ElectraConfig;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.RobertaTokens;
import org.jgpt.train.objective.EncoderBatches;
import org.jgpt.train.objective.Masking;

/**
 * Replaced-token detection on ELECTRA's pair ({@link TrainableElectra}). {@code rtd} is ELECTRA's: each token is
 * chosen with the masking rate and becomes {@code <mask>} (85%) or stays (15%) in the generator's input; the generator
 * fills every chosen position with a token drawn from its own softmax, and the discriminator tells original from
 * replaced at every token; loss = generator's masked LM + λ × discriminator's. {@code rtd-random} has no generator:
 * the chosen tokens are replaced by tokens drawn uniformly from the non-special vocabulary, and the loss is the
 * discriminator's alone. Masks, samples and dropout are functions of (seed, batch index), so a resumed run is exact.
 */
final class ReplacedTokenDetection implements Objective {
    static final String RTD = "rtd";
    static final String RANDOM = "rtd-random";

    /** Whether {@code objective} names one of these objectives. */
    static boolean names(String objective) {
        return objective.equals(RTD) || objective.equals(RANDOM);
    }

    private final TrainConfig config;
    private final TrainableElectra model;
    private final GPT2Tokenizer tokenizer;
    private final Masking masking;
    private final EncoderBatches train;
    private final EncoderBatches val;
    private final int[] original, inputs, labels, lengths;

    /** {@code discriminatorConfig} is the discriminator's; rtd's generator is it narrowed by the run's width ratio. */
    ReplacedTokenDetection(ElectraConfig discriminatorConfig, TrainConfig config, TokenDataset trainData,
                           TokenDataset valData, GPT2Tokenizer tokenizer) {
        this.config = config;
        this.tokenizer = tokenizer;
        RobertaTokens special = EncoderObjectives.specialTokens(discriminatorConfig.vocabSize(),
                discriminatorConfig.padTokenId(), tokenizer);
        boolean generated = config.objective().equals(RTD);
        this.masking = new Masking(Masking.Kind.TOKENS, config.maskRate(),
                generated ? Masking.Replacement.ELECTRA : Masking.Replacement.RANDOM, special, tokenizer);
        int b = config.batchSize();
        int t = config.seqLen();
        this.train = EncoderObjectives.trainBatches(trainData, special, tokenizer, config);
        this.val = EncoderObjectives.validationBatches(valData, special, tokenizer, config);
        ElectraConfig generatorConfig = generated ? discriminatorConfig.generator(config.generatorWidthRatio()) : null;
        this.model = new TrainableElectra(discriminatorConfig, generatorConfig, (float) config.discriminatorWeight(), b, t,
                (float) config.dropout());
        this.original = new int[b * t];
        this.inputs = new int[b * t];
        this.labels = new int[b * t];
        this.lengths = new int[b];
    }

    TrainableElectra model() {
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
        train.windows(index, original, lengths);
        float loss = corruptAndRun(index, true, dropoutSeed);
        model.backward(lossScale);
        return new Trained(loss, Arrays.stream(lengths).asLongStream().sum());
    }

    /** Masks batch {@code index} (in {@link #original}) and runs the pair on it; masks and samples from (seed, index). */
    private float corruptAndRun(long index, boolean training, long dropoutSeed) {
        System.arraycopy(original, 0, inputs, 0, inputs.length);
        masking.apply(inputs, labels, config.batchSize(), config.seqLen(), BatchLoader.mix(config.seed() ^ 0x3C6EF372L, index));
        long sampleSeed = BatchLoader.mix(config.seed() ^ 0x6A09E667L, index);
        return model.forward(original, inputs, lengths, labels, sampleSeed, training, dropoutSeed);
    }

    /**
     * The loss as in training and the discriminator's AUC: the chance that it scores a replaced token above an
     * original one, over every token of the first {@code batches} validation batches (0.5 is guessing). The same
     * masks and samples at every validation (negative batch indices), dropout off.
     */
    @Override
    public Optional<Validation> validate(int batches) {
        if (val == null) return Optional.empty();
        long count = Math.min(batches, val.sequentialBatches());
        if (count == 0) return Optional.empty();
        int rows = original.length;
        float[] scores = new float[(int) count * rows];
        boolean[] replaced = new boolean[scores.length];
        int scored = 0;
        double loss = 0;
        for (long b = 0; b < count; b++) {
            val.sequentialWindows(b, original, lengths);
            loss += corruptAndRun(-1 - b, false, 0);
            ElectraDiscriminator d = model.discriminator();
            for (int r = 0; r < rows; r++) {
                if (!d.active(r)) continue;
                scores[scored] = d.logits()[r];
                replaced[scored++] = d.replaced()[r] == 1;
            }
        }
        return Optional.of(new Validation(loss / count, areaUnderCurve(scores, replaced, scored)));
    }

    /**
     * The ROC AUC of the first {@code n} scores for the positives: the Mann–Whitney statistic from ranks, ties sharing
     * their mean rank; NaN without both classes.
     */
    static double areaUnderCurve(float[] scores, boolean[] positive, int n) {
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(scores[a], scores[b]));
        double positiveRanks = 0;
        long positives = 0;
        for (int start = 0; start < n; ) {
            int end = start;
            while (end < n && scores[order[end]] == scores[order[start]]) end++;
            double rank = (start + 1 + end) / 2.0; // ranks start + 1 .. end, averaged
            for (int k = start; k < end; k++) {
                if (positive[order[k]]) {
                    positiveRanks += rank;
                    positives++;
                }
            }
            start = end;
        }
        long negatives = n - positives;
        if (positives == 0 || negatives == 0) return Double.NaN;
        return (positiveRanks - positives * (positives + 1) / 2.0) / ((double) positives * negatives);
    }

    @Override
    public String lossName() {
        return config.objective().equals(RTD)
                ? "generator's masked-token loss + " + config.discriminatorWeight() + " × replaced-token BCE (nats)"
                : "replaced-token BCE (nats / token)";
    }

    @Override
    public String accuracyName() {
        return "replaced-token AUC";
    }

    /**
     * The discriminator's Hugging Face folder at {@code dir} (the run's model, the one to fine-tune) and the generator's
     * in {@code dir}/generator, each with a tokenizer_config.json that tells transformers the vocabulary is RoBERTa's
     * byte-level BPE (an ELECTRA folder would otherwise be read as WordPiece). The checkpoint adds the vocabulary at
     * {@code dir}; the generator's is written here.
     */
    @Override
    public void saveModel(Path dir) throws IOException {
        model.save(dir);
        TrainableElectra.writeRobertaTokenizerConfig(dir);
        if (model.hasGenerator()) {
            Path generator = dir.resolve(TrainableElectra.GENERATOR_FOLDER);
            tokenizer.save(generator);
            TrainableElectra.writeRobertaTokenizerConfig(generator);
        }
    }

    @Override
    public void loadModel(Path dir) throws IOException {
        List<String> missing = model.load(dir);
        if (!missing.isEmpty()) throw new IOException(dir + " lacks tensors " + missing);
    }

    @Override
    public String describe() {
        String generator = model.hasGenerator()
                ? "generator " + model.generatorConfig() + ", λ " + config.discriminatorWeight() + ", "
                : "no generator (uniform replacements), ";
        return config.objective() + " choosing " + config.maskRate() + " of tokens, " + generator + "discriminator "
                + model.discriminatorConfig();
    }
}
