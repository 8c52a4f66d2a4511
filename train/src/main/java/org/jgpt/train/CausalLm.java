package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.jgpt.io.Checkpoints;
import org.jgpt.kernel.DType;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Weights;

/** GPT-2's objective: each token predicts the next, over random windows of the corpus. */
final class CausalLm implements Objective {
    private final TrainableGPT2 model;
    private final BatchLoader train;
    private final TokenDataset val;
    private final TrainConfig config;
    private final int[] inputs;
    private final int[] targets;

    CausalLm(GPT2Config modelConfig, TrainConfig config, TokenDataset train, TokenDataset val) {
        if (modelConfig.vocabSize() < train.vocabSize()) {
            throw new IllegalArgumentException("the model's vocabulary (" + modelConfig.vocabSize()
                    + ") is smaller than the corpus's (" + train.vocabSize() + ")");
        }
        this.model = new TrainableGPT2(modelConfig, config.batchSize(), config.seqLen(), (float) config.dropout());
        this.train = new BatchLoader(train, config.batchSize(), config.seqLen(), config.seed());
        this.val = val;
        this.config = config;
        this.inputs = new int[config.batchSize() * config.seqLen()];
        this.targets = new int[inputs.length];
    }

    TrainableGPT2 model() {
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
        train.randomBatch(index, inputs, targets);
        float loss = model.forward(inputs, targets, dropoutSeed);
        model.backward(lossScale);
        return new Trained(loss, inputs.length); // packed windows: no padding
    }

    @Override
    public Optional<Validation> validate(int batches) {
        if (val.size() <= config.seqLen()) return Optional.empty();
        BatchLoader loader = new BatchLoader(val, config.batchSize(), config.seqLen(), config.seed());
        long count = Math.min(batches, loader.sequentialBatches());
        if (count == 0) return Optional.empty();
        double sum = 0;
        for (long b = 0; b < count; b++) {
            loader.sequentialBatch(b, inputs, targets);
            sum += model.evaluate(inputs, targets);
        }
        return Optional.of(new Validation(sum / count, Double.NaN));
    }

    @Override
    public String lossName() {
        return "loss (nats / token)";
    }

    @Override
    public String accuracyName() {
        return "no accuracy"; // validation reports the loss alone
    }

    @Override
    public void saveModel(Path dir) throws IOException {
        Checkpoints.save(model.weights(), dir, DType.F32);
    }

    @Override
    public void loadModel(Path dir) throws IOException {
        try (GPT2Weights weights = Checkpoints.load(dir)) {
            model.load(weights);
        }
    }

    @Override
    public String describe() {
        return model.config().toString();
    }
}
