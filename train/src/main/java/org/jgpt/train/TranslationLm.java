package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.jgpt.io.Json;
import org.jgpt.model.EncoderConfig;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.RobertaTokens;
import org.jgpt.train.objective.Masking;
import org.jgpt.train.objective.TranslationPairs;

/**
 * XLM's translation language modelling ({@code tlm}) on a RoBERTa encoder: a sentence and its translation in one row
 * ({@link TranslationPairs}: RoBERTa's pair framing, a language embedding per segment in the token-type table,
 * positions restarting at the second segment), masked as {@code mlm} over both segments, so that a masked word may be
 * guessed from its translation. The pairs are JSONL records read as contrastive-pairs reads them ({@link
 * ContrastiveData}: {@code --fields}, every 20th record held out), the first field in language 0, the second in
 * language 1. Records are drawn without replacement, a new order each epoch; masks are drawn afresh for every batch
 * from (seed, batch index), as mlm's.
 *
 * <p>The model is saved as a RobertaForMaskedLM folder with {@code type_vocab_size} 2 and the languages under
 * {@value #LANGUAGES_KEY} in config.json; a model with that key reads pairs in this layout.
 */
final class TranslationLm implements Objective {
    static final String NAME = "tlm";
    /** config.json's key for the languages of token types 0, 1, ...: the field names the model was trained on. */
    static final String LANGUAGES_KEY = "jgpt_languages";

    private final TrainConfig config;
    private final List<String> languages;
    private final TrainableEncoder model;
    private final Masking masking;
    private final TranslationPairs rows;
    private final List<TranslationPairs.Pair> train;
    private final List<TranslationPairs.Pair> heldOut;
    private int truncated; // pairs cut to the sequence length
    private final EpochOrder order;
    private final int[] inputs, labels, lengths, typeIds, positionIds;
    private final TrainableEncoder.Segments segments;

    TranslationLm(EncoderConfig modelConfig, TrainConfig config, GPT2Tokenizer tokenizer) {
        this.config = config;
        RobertaTokens special = RobertaTokens.of(tokenizer);
        if (modelConfig.vocabSize() < tokenizer.vocabSize()) {
            throw new IllegalArgumentException("the encoder's vocabulary (" + modelConfig.vocabSize()
                    + ") is smaller than the tokenizer's (" + tokenizer.vocabSize() + ")");
        }
        if (modelConfig.padTokenId() != special.pad()) {
            throw new IllegalArgumentException("the encoder's pad_token_id (" + modelConfig.padTokenId()
                    + ") is not the vocabulary's <pad> (" + special.pad() + ")");
        }
        this.languages = config.fields().isEmpty() ? ContrastiveData.PAIR_FIELDS : config.fields();
        ContrastiveData.Split split = ContrastiveData.read(Path.of(config.data()), config.fields(), true);
        int b = config.batchSize();
        if (split.train().size() < b) {
            throw new IllegalArgumentException(config.data() + " has " + split.train().size()
                    + " training pairs, fewer than a batch of " + b);
        }
        int t = config.seqLen();
        this.rows = new TranslationPairs(special, t);
        this.train = tokenize(split.train(), tokenizer);
        this.heldOut = tokenize(split.heldOut(), tokenizer);
        this.masking = new Masking(Masking.Kind.TOKENS, config.maskRate(), special, tokenizer);
        // a masked-LM encoder's single token type becomes two, one per language
        EncoderConfig withLanguages = modelConfig.typeVocabSize() < 2 ? modelConfig.withTypeVocabSize(2) : modelConfig;
        this.model = new TrainableEncoder(withLanguages, TrainableEncoder.Heads.maskedLmOnly(), b, t, (float) config.dropout());
        this.order = new EpochOrder(train.size(), config.seed() ^ 0x2545F4914F6CDD1DL);
        this.inputs = new int[b * t];
        this.labels = new int[b * t];
        this.lengths = new int[b];
        this.typeIds = new int[b * t];
        this.positionIds = new int[b * t];
        this.segments = new TrainableEncoder.Segments(typeIds, positionIds);
    }

    /** The records' two sides as tokens, each pair cut to fit a row. */
    private List<TranslationPairs.Pair> tokenize(List<ContrastiveData.Pair> records, GPT2Tokenizer tokenizer) {
        List<TranslationPairs.Pair> pairs = new ArrayList<>(records.size());
        for (ContrastiveData.Pair record : records) {
            int[] first = tokenizer.encode(record.anchor()), second = tokenizer.encode(record.positive());
            TranslationPairs.Pair pair = rows.fit(first, second);
            if (pair.first().length < first.length || pair.second().length < second.length) truncated++;
            pairs.add(pair);
        }
        return pairs;
    }

    /** The languages a saved encoder's token types stand for, if it was trained with tlm. */
    static Optional<List<String>> languages(Path modelDir) {
        Path json = modelDir.resolve("config.json");
        Object value = Json.parseFile(json).get(LANGUAGES_KEY);
        if (value == null) return Optional.empty();
        if (!(value instanceof List<?> list) || !list.stream().allMatch(String.class::isInstance)) {
            throw new IllegalArgumentException(json + ": " + LANGUAGES_KEY + " must be a list of names, not " + value);
        }
        return Optional.of(list.stream().map(String.class::cast).toList());
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
        int[] records = order.batch(index, config.batchSize());
        for (int row = 0; row < records.length; row++) {
            rows.write(row, train.get(records[row]), 0, 1, inputs, typeIds, positionIds, lengths);
        }
        // mlm's masks for the same batch index
        masking.apply(inputs, labels, config.batchSize(), config.seqLen(), BatchLoader.mix(config.seed() ^ 0x3C6EF372L, index));
        float loss = model.forward(inputs, lengths, segments, labels, null, dropoutSeed);
        model.backward(lossScale);
        return new Trained(loss, Arrays.stream(lengths).asLongStream().sum());
    }

    /** Masked-token loss and accuracy over consecutive batches of the held-out pairs, the same masks each time. */
    @Override
    public Optional<Validation> validate(int batches) {
        int b = config.batchSize();
        int count = Math.min(batches, heldOut.size() / b);
        if (count == 0) return Optional.empty();
        double loss = 0;
        long correct = 0;
        long predicted = 0;
        for (int v = 0; v < count; v++) {
            for (int row = 0; row < b; row++) rows.write(row, heldOut.get(v * b + row), 0, 1, inputs, typeIds, positionIds, lengths);
            masking.apply(inputs, labels, b, config.seqLen(), BatchLoader.mix(config.seed(), -1 - v));
            loss += model.evaluate(inputs, lengths, segments, labels, null);
            correct += model.maskedLmCorrect();
            predicted += model.maskedLmCount();
        }
        return Optional.of(new Validation(loss / count, predicted == 0 ? Double.NaN : (double) correct / predicted));
    }

    @Override
    public String lossName() {
        return "masked-token loss (nats / token)";
    }

    @Override
    public String accuracyName() {
        return "masked-token accuracy";
    }

    @Override
    public void saveModel(Path dir) throws IOException {
        model.save(dir, Map.of(LANGUAGES_KEY, languages));
    }

    @Override
    public void loadModel(Path dir) throws IOException {
        List<String> missing = model.load(dir);
        if (!missing.isEmpty()) throw new IOException(dir + " lacks tensors " + missing);
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "tlm masking %s of tokens, %s-%s pairs: %,d training and %,d held-out (%,d"
                        + " pairs cut to %d tokens), %s", config.maskRate(), languages.get(0), languages.get(1),
                train.size(), heldOut.size(), truncated, config.seqLen(), model.config());
    }
}
