package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.jgpt.model.EncoderConfig;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.RobertaTokens;
import org.jgpt.train.objective.EncoderBatches;
import org.jgpt.train.objective.PermutationOrders;

/**
 * XLNet's permutation language modelling ({@code plm}) on a {@link PermutationEncoder}: single windows as the masked
 * objectives', a fresh order per sequence and batch from (seed, batch index), the predicted tokens (about 1/6) scored
 * by the query stream.
 */
final class PermutationLm implements Objective {
    static final String NAME = "plm";

    private final PermutationEncoder model;
    private final TrainConfig config;
    private final PermutationOrders orders;
    private final EncoderBatches train;
    private final EncoderBatches val;
    private final int[] inputs, labels, ranks, lengths;

    PermutationLm(EncoderConfig modelConfig, TrainConfig config, TokenDataset trainData, TokenDataset valData,
                  GPT2Tokenizer tokenizer) {
        this.config = config;
        RobertaTokens special = EncoderObjectives.specialTokens(modelConfig.vocabSize(), modelConfig.padTokenId(), tokenizer);
        int b = config.batchSize();
        int t = config.seqLen();
        this.orders = new PermutationOrders(id -> special.isSpecial(id) || tokenizer.isSpecial(id), t);
        this.train = EncoderObjectives.trainBatches(trainData, special, tokenizer, config);
        this.val = EncoderObjectives.validationBatches(valData, special, tokenizer, config);
        this.model = new PermutationEncoder(modelConfig, b, t, (float) config.dropout());
        this.inputs = new int[b * t];
        this.labels = new int[b * t];
        this.ranks = new int[b * t];
        this.lengths = new int[b];
    }

    PermutationEncoder model() {
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
        train.windows(index, inputs, lengths);
        orders.draw(inputs, lengths, labels, ranks, config.batchSize(), BatchLoader.mix(config.seed() ^ 0x3C6EF372L, index));
        float loss = model.forward(inputs, lengths, ranks, labels, dropoutSeed);
        model.backward(lossScale);
        return new Trained(loss, Arrays.stream(lengths).asLongStream().sum());
    }

    @Override
    public Optional<Validation> validate(int batches) {
        long count = val == null ? 0 : Math.min(batches, val.sequentialBatches());
        if (count == 0) return Optional.empty();
        double loss = 0;
        long correct = 0;
        long predicted = 0;
        for (long b = 0; b < count; b++) {
            val.sequentialWindows(b, inputs, lengths);
            // the same orders at every validation, so the figures compare across steps
            orders.draw(inputs, lengths, labels, ranks, config.batchSize(), BatchLoader.mix(config.seed(), -1 - b));
            loss += model.evaluate(inputs, lengths, ranks, labels);
            correct += model.correct();
            predicted += model.predicted();
        }
        return Optional.of(new Validation(loss / count, predicted == 0 ? Double.NaN : (double) correct / predicted));
    }

    @Override
    public String lossName() {
        return "predicted-token loss (nats / token)";
    }

    @Override
    public String accuracyName() {
        return "predicted-token accuracy";
    }

    @Override
    public void saveModel(Path dir) throws IOException {
        model.save(dir);
    }

    @Override
    public void loadModel(Path dir) throws IOException {
        List<String> missing = model.load(dir);
        if (!missing.isEmpty()) throw new IOException(dir + " lacks tensors " + missing);
    }

    @Override
    public String describe() {
        return "plm: XLNet's two-stream permutation LM, spans of 1.." + PermutationOrders.MAX_SPAN_LENGTH
                + " tokens, 1/" + PermutationOrders.CONTEXT_PER_SPAN_TOKEN + " of tokens predicted, " + model.config();
    }
}
