package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Weights;
import org.jgpt.tokenizer.GPT2Tokenizer;

/**
 * The pre-training loop, nanoGPT's, top to bottom: for each step, accumulate gradients over micro-batches, clip, take
 * an AdamW step at the scheduled rate, log; validate and checkpoint at intervals. A run resumed from a checkpoint
 * gives the same losses as one that was never interrupted (for the same thread count).
 */
public final class Trainer implements AutoCloseable {
    /** Receives what the run does, for progress lines, CSV and plots. */
    public interface Listener {
        default void onStep(StepMetrics metrics) {}

        default void onValidation(int step, double loss) {}

        default void onCheckpoint(int step, Path checkpoint) {}
    }

    /** One optimizer step: {@code step} counts from 1. */
    public record StepMetrics(int step, int maxSteps, double loss, double learningRate, double gradNorm,
                              double tokensPerSecond, double secondsLeft) {}

    private final TrainConfig config;
    private final Path outDir;
    private final TrainableGPT2 model;
    private final AdamW optimizer;
    private final TokenDataset train;
    private final TokenDataset val;
    private final GPT2Tokenizer tokenizer;
    private int step;

    private Trainer(TrainConfig config, GPT2Config modelConfig, Path outDir) throws IOException {
        this.config = config;
        this.outDir = outDir;
        Path data = Path.of(config.data());
        this.train = TokenDataset.open(data, "train");
        this.val = TokenDataset.open(data, "val");
        this.tokenizer = TokenDataset.tokenizer(data);
        if (modelConfig.vocabSize() < train.vocabSize()) {
            throw new IllegalArgumentException("the model's vocabulary (" + modelConfig.vocabSize()
                    + ") is smaller than the corpus's (" + train.vocabSize() + ")");
        }
        this.model = new TrainableGPT2(modelConfig, config.batchSize(), config.seqLen(), (float) config.dropout());
        this.optimizer = new AdamW(model.parameters(), config.optimizerSettings());
    }

    /** A new run from GPT-2's initialisation, or from {@code init} weights when given. */
    public static Trainer start(TrainConfig config, GPT2Config modelConfig, GPT2Weights init, Path outDir) throws IOException {
        if (TrainingCheckpoint.latest(outDir).isPresent()) {
            throw new IOException(outDir + " already holds checkpoints: pass --resume to continue that run, or choose another --out");
        }
        Trainer trainer = new Trainer(config, modelConfig, outDir);
        if (init == null) trainer.model.initialize(config.seed());
        else trainer.model.load(init);
        return trainer;
    }

    /** Continues the run saved in {@code outDir}'s latest checkpoint. */
    public static Trainer resume(Path outDir) throws IOException {
        Path checkpoint = TrainingCheckpoint.latest(outDir)
                .orElseThrow(() -> new IOException("no checkpoint to resume in " + outDir));
        TrainingCheckpoint.State state = TrainingCheckpoint.readState(checkpoint);
        Trainer trainer = new Trainer(state.config(), state.modelConfig(), outDir);
        TrainingCheckpoint.restore(checkpoint, trainer.model, trainer.optimizer);
        trainer.step = state.step();
        return trainer;
    }

    public TrainConfig config() {
        return config;
    }

    public TrainableGPT2 model() {
        return model;
    }

    public Path outDir() {
        return outDir;
    }

    /** Optimizer steps already taken. */
    public int step() {
        return step;
    }

    /**
     * Trains until {@code maxSteps}, or until {@code stop} answers true after a step; either way the last step is
     * checkpointed before returning. Metrics go to the listener and to the run's metrics.csv and loss.png.
     */
    public void run(Listener progress, BooleanSupplier stop) throws IOException {
        RunLog log = new RunLog(outDir, step);
        Listener listener = new Listener() {
            @Override
            public void onStep(StepMetrics metrics) {
                log.onStep(metrics);
                progress.onStep(metrics);
            }

            @Override
            public void onValidation(int step, double loss) {
                log.onValidation(step, loss);
                progress.onValidation(step, loss);
            }

            @Override
            public void onCheckpoint(int step, Path checkpoint) {
                log.onCheckpoint(step, checkpoint);
                progress.onCheckpoint(step, checkpoint);
            }
        };
        int rows = config.batchSize() * config.seqLen();
        int[] inputs = new int[rows];
        int[] targets = new int[rows];
        BatchLoader loader = new BatchLoader(train, config.batchSize(), config.seqLen(), config.seed());
        LearningRateSchedule schedule = config.schedule();
        long runStart = System.nanoTime();
        int firstStep = step;
        while (step < config.maxSteps()) {
            long stepStart = System.nanoTime();
            model.zeroGrad();
            double loss = 0;
            for (int micro = 0; micro < config.gradAccum(); micro++) {
                long batchIndex = (long) step * config.gradAccum() + micro;
                loader.randomBatch(batchIndex, inputs, targets);
                loss += model.forward(inputs, targets, BatchLoader.mix(config.seed() ^ 0x5DEECE66DL, batchIndex));
                model.backward(1f / config.gradAccum());
            }
            loss /= config.gradAccum();
            double lr = schedule.at(step);
            double norm = optimizer.step((float) lr, (float) config.gradClip());
            step++;

            double seconds = (System.nanoTime() - stepStart) / 1e9;
            double perStep = (System.nanoTime() - runStart) / 1e9 / (step - firstStep);
            listener.onStep(new StepMetrics(step, config.maxSteps(), loss, lr, norm, config.tokensPerStep() / seconds,
                    perStep * (config.maxSteps() - step)));
            boolean last = step == config.maxSteps() || stop.getAsBoolean();
            if (last || (config.evalInterval() > 0 && step % config.evalInterval() == 0)) {
                validationLoss().ifPresent(v -> listener.onValidation(step, v));
            }
            if (last || (config.checkpointInterval() > 0 && step % config.checkpointInterval() == 0)) {
                listener.onCheckpoint(step, TrainingCheckpoint.save(outDir, step, model, optimizer, config, tokenizer));
            }
            if (last) return;
        }
    }

    /** Mean loss over the first {@code evalBatches} batches of the validation split, dropout off. */
    public java.util.OptionalDouble validationLoss() {
        if (val.size() <= config.seqLen()) return java.util.OptionalDouble.empty();
        BatchLoader loader = new BatchLoader(val, config.batchSize(), config.seqLen(), config.seed());
        long batches = Math.min(config.evalBatches(), loader.sequentialBatches());
        if (batches == 0) return java.util.OptionalDouble.empty();
        int rows = config.batchSize() * config.seqLen();
        int[] inputs = new int[rows];
        int[] targets = new int[rows];
        double sum = 0;
        for (long b = 0; b < batches; b++) {
            loader.sequentialBatch(b, inputs, targets);
            sum += model.evaluate(inputs, targets);
        }
        return java.util.OptionalDouble.of(sum / batches);
    }

    @Override
    public void close() {
        train.close();
        val.close();
    }
}
