package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jgpt.model.EncoderConfig;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.RobertaTokens;
import org.jgpt.train.objective.EncoderBatches;
import org.jgpt.train.objective.Masking;

/**
 * The BERT family's objectives on a RoBERTa encoder: masked LM over single windows ({@code mlm}, {@code wwm},
 * {@code span}), or over sentence pairs with a two-way head on {@code <s>} ({@code +sop}: ALBERT's sentence order,
 * {@code +nsp}: BERT's next sentence), the two losses summed. Masks are drawn afresh for every batch, as RoBERTa's
 * dynamic masking, from (seed, batch index).
 */
final class MaskedLm implements Objective {
    /** A parsed objective name: the masking, and the sentence-pair task or null. */
    record Name(Masking.Kind masking, EncoderBatches.PairTask pairs) {
        private static final Map<String, Masking.Kind> MASKINGS =
                Map.of("mlm", Masking.Kind.TOKENS, "wwm", Masking.Kind.WHOLE_WORDS, "span", Masking.Kind.SPANS);
        private static final Map<String, EncoderBatches.PairTask> PAIRS =
                Map.of("sop", EncoderBatches.PairTask.SENTENCE_ORDER, "nsp", EncoderBatches.PairTask.NEXT_SENTENCE);

        /** "mlm", "wwm", "span", each alone or with "+sop" or "+nsp"; null for "clm"; else an error that lists them. */
        static Name parse(String objective) {
            if (objective.equals("clm")) return null;
            String[] parts = objective.split("\\+", -1);
            Masking.Kind masking = MASKINGS.get(parts[0]);
            EncoderBatches.PairTask pairs = parts.length == 2 ? PAIRS.get(parts[1]) : null;
            if (masking == null || parts.length > 2 || (parts.length == 2 && pairs == null)) {
                throw new IllegalArgumentException("unknown objective '" + objective
                        + "': choose clm, mlm, wwm or span (the last three alone or with +sop or +nsp, e.g. mlm+sop),"
                        + " simcse, contrastive-pairs, rtd, rtd-random, tlm or plm");
            }
            return new Name(masking, pairs);
        }
    }

    private final TrainableEncoder model;
    private final Name name;
    private final TrainConfig config;
    private final Masking masking;
    private final EncoderBatches train;
    private final EncoderBatches val;
    private final int[] inputs;
    private final int[] labels;
    private final int[] lengths;
    private final int[] pairLabels;

    MaskedLm(EncoderConfig modelConfig, TrainConfig config, TokenDataset trainData, TokenDataset valData,
             GPT2Tokenizer tokenizer) {
        this.name = Name.parse(config.objective());
        this.config = config;
        RobertaTokens special = EncoderObjectives.specialTokens(modelConfig.vocabSize(), modelConfig.padTokenId(), tokenizer);
        this.masking = new Masking(name.masking(), config.maskRate(), special, tokenizer);
        int b = config.batchSize();
        int t = config.seqLen();
        this.train = EncoderObjectives.trainBatches(trainData, special, tokenizer, config);
        this.val = EncoderObjectives.validationBatches(valData, special, tokenizer, config);
        TrainableEncoder.Heads heads = name.pairs() == null
                ? TrainableEncoder.Heads.maskedLmOnly() : TrainableEncoder.Heads.maskedLmAndSentencePairs();
        this.model = new TrainableEncoder(modelConfig, heads, b, t, (float) config.dropout());
        this.inputs = new int[b * t];
        this.labels = new int[b * t];
        this.lengths = new int[b];
        this.pairLabels = new int[b];
        if (name.pairs() != null) train.pairs(name.pairs(), 0, inputs, lengths, pairLabels); // fails early if no document can
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
        fill(train, index, false);
        masking.apply(inputs, labels, config.batchSize(), config.seqLen(), BatchLoader.mix(config.seed() ^ 0x3C6EF372L, index));
        float loss = model.forward(inputs, lengths, labels, name.pairs() == null ? null : pairLabels, dropoutSeed);
        model.backward(lossScale);
        return new Trained(loss, Arrays.stream(lengths).asLongStream().sum());
    }

    private void fill(EncoderBatches batches, long index, boolean sequential) {
        if (name.pairs() != null) {
            batches.pairs(name.pairs(), index, inputs, lengths, pairLabels);
        } else if (sequential) {
            batches.sequentialWindows(index, inputs, lengths);
        } else {
            batches.windows(index, inputs, lengths);
        }
    }

    /** Consecutive windows of the validation split, in batches: what {@link #validate} covers at most. */
    long validationBatches() {
        return val == null ? 0 : val.sequentialBatches();
    }

    @Override
    public Optional<Validation> validate(int batches) {
        if (val == null) return Optional.empty();
        long count = name.pairs() != null ? batches : Math.min(batches, val.sequentialBatches());
        if (count == 0) return Optional.empty();
        double loss = 0;
        long correct = 0;
        long predicted = 0;
        for (long b = 0; b < count; b++) {
            fill(val, b, true);
            // the same masks at every validation, so the figures compare across steps
            masking.apply(inputs, labels, config.batchSize(), config.seqLen(), BatchLoader.mix(config.seed(), -1 - b));
            loss += model.evaluate(inputs, lengths, labels, name.pairs() == null ? null : pairLabels);
            correct += model.maskedLmCorrect();
            predicted += model.maskedLmCount();
        }
        return Optional.of(new Validation(loss / count, predicted == 0 ? Double.NaN : (double) correct / predicted));
    }

    @Override
    public String lossName() {
        return name.pairs() == null ? "masked-token loss (nats / token)" : "masked-token loss + sentence-pair loss (nats)";
    }

    @Override
    public String accuracyName() {
        return "masked-token accuracy";
    }

    @Override
    public void saveModel(Path dir) throws IOException {
        model.save(dir, Map.of());
    }

    @Override
    public void loadModel(Path dir) throws IOException {
        List<String> missing = model.load(dir);
        if (!missing.isEmpty()) throw new IOException(dir + " lacks tensors " + missing);
    }

    @Override
    public String describe() {
        return config.objective() + " masking " + config.maskRate() + " of tokens, " + model.config();
    }
}
