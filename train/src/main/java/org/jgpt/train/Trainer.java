package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.jgpt.model.ElectraConfig;
import org.jgpt.model.EncoderConfig;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Weights;
import org.jgpt.tokenizer.GPT2Tokenizer;

/**
 * The pre-training loop, nanoGPT's, top to bottom, for GPT-2's causal LM or an encoder's masked or contrastive
 * objectives: for each step, accumulate gradients over micro-batches, clip, take
 * an AdamW step at the scheduled rate, log; validate and checkpoint at intervals. A run resumed from a checkpoint
 * gives the same losses as one that was never interrupted (for the same thread count).
 */
public final class Trainer implements AutoCloseable {
    /** Receives what the run does, for progress lines, CSV and plots. */
    public interface Listener {
        default void onStep(StepMetrics metrics) {}

        /** {@code accuracy}: what {@link Trainer#accuracyName} says; NaN for the causal LM. */
        default void onValidation(int step, double loss, double accuracy) {}

        default void onCheckpoint(int step, Path checkpoint) {}
    }

    /**
     * One optimizer step: {@code step} counts from 1; {@code tokens} are those its micro-batches held, padding left
     * out, and {@code tokensPerSecond} counts the same tokens.
     */
    public record StepMetrics(int step, int maxSteps, double loss, double learningRate, double gradNorm, long tokens,
                              double tokensPerSecond, double secondsLeft) {}

    private final TrainConfig config;
    private final Path outDir;
    private final TokenDataset train; // null for the objectives that read text
    private final TokenDataset val;
    private final GPT2Tokenizer tokenizer;
    private final Objective objective;
    private final AdamW optimizer;
    private int step;

    /**
     * {@code modelConfig} is a GPT2Config for the causal LM, an ElectraConfig (the discriminator's) for replaced-token
     * detection, an EncoderConfig for the other encoder objectives.
     * {@code textTokenizer} reads the text of the contrastive objectives and tlm; the others take their prepared
     * corpus's.
     */
    private Trainer(TrainConfig config, Object modelConfig, GPT2Tokenizer textTokenizer, Path outDir) throws IOException {
        this.config = config;
        this.outDir = outDir;
        Path data = Path.of(config.data());
        boolean readsText = config.readsText();
        if (readsText && textTokenizer == null) {
            throw new IllegalArgumentException(config.objective() + " needs a tokenizer: start from a saved encoder or give one");
        }
        this.train = readsText ? null : TokenDataset.open(data, "train");
        this.val = readsText ? null : TokenDataset.open(data, "val");
        this.tokenizer = readsText ? textTokenizer : TokenDataset.tokenizer(data);
        try {
            this.objective = switch (modelConfig) {
                case GPT2Config gpt when !config.trainsEncoder() -> new CausalLm(gpt, config, train, val);
                case ElectraConfig electra when config.replacedTokenDetection() ->
                        new ReplacedTokenDetection(electra, config, train, val, tokenizer);
                case EncoderConfig encoder when config.contrastive() -> new Contrastive(encoder, config, tokenizer);
                case EncoderConfig encoder when config.objective().equals(TranslationLm.NAME) ->
                        new TranslationLm(encoder, config, tokenizer);
                case EncoderConfig encoder when config.objective().equals(PermutationLm.NAME) ->
                        new PermutationLm(encoder, config, train, val, tokenizer);
                case EncoderConfig encoder when config.trainsEncoder() -> new MaskedLm(encoder, config, train, val, tokenizer);
                default -> throw new IllegalArgumentException("objective " + config.objective() + " does not train a "
                        + (config.trainsEncoder() ? "GPT" : "encoder"));
            };
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        this.optimizer = new AdamW(objective.parameters(), config.optimizerSettings());
    }

    /** A new run of GPT-2's causal LM from GPT-2's initialisation, or from {@code init} weights when given. */
    public static Trainer start(TrainConfig config, GPT2Config modelConfig, GPT2Weights init, Path outDir) throws IOException {
        Trainer trainer = create(config, modelConfig, null, outDir);
        if (init == null) trainer.objective.initialize(config.seed());
        else ((CausalLm) trainer.objective).model().load(init);
        return trainer;
    }

    /** A new run of an encoder on a masked objective, from BERT's initialisation. */
    public static Trainer start(TrainConfig config, EncoderConfig modelConfig, Path outDir) throws IOException {
        return start(config, modelConfig, null, outDir);
    }

    /**
     * A new run of an encoder from BERT's initialisation; {@code tokenizer} reads the text of a contrastive objective
     * or tlm (null for the masked objectives, which take their corpus's).
     */
    public static Trainer start(TrainConfig config, EncoderConfig modelConfig, GPT2Tokenizer tokenizer, Path outDir)
            throws IOException {
        Trainer trainer = create(config, modelConfig, tokenizer, outDir);
        trainer.objective.initialize(config.seed());
        return trainer;
    }

    /** A new run of ELECTRA's replaced-token detection from BERT's initialisation; {@code modelConfig} is the discriminator's. */
    public static Trainer start(TrainConfig config, ElectraConfig modelConfig, Path outDir) throws IOException {
        Trainer trainer = create(config, modelConfig, null, outDir);
        trainer.objective.initialize(config.seed());
        return trainer;
    }

    /**
     * A new run of an encoder from the one saved in {@code init}: its config and weights, and for an objective that
     * reads text its tokenizer. A masked objective needs the masked-LM head there; a sentence-pair head it lacks
     * starts from BERT's initialisation, and heads the objective does not use are left out. tlm's second language
     * embedding starts as a copy of the first when {@code init} has one token type.
     */
    public static Trainer startFrom(TrainConfig config, Path init, Path outDir) throws IOException {
        if (!config.trainsEncoder()) throw new IllegalArgumentException("startFrom() starts encoders; GPT-2 starts from its weights");
        if (config.replacedTokenDetection() || config.objective().equals(PermutationLm.NAME)) {
            throw new IllegalArgumentException(config.objective() + " starts from scratch");
        }
        EncoderConfig modelConfig = EncoderConfig.load(TrainableEncoder.requireEncoder(init));
        Trainer trainer = create(config, modelConfig, config.readsText() ? GPT2Tokenizer.fromDirectory(init) : null, outDir);
        try {
            trainer.objective.initialize(config.seed());
            trainer.encoder().loadPretrained(init, true);
        } catch (RuntimeException e) {
            trainer.close();
            throw e;
        }
        return trainer;
    }

    private static Trainer create(TrainConfig config, Object modelConfig, GPT2Tokenizer tokenizer, Path outDir)
            throws IOException {
        if (TrainingCheckpoint.latest(outDir).isPresent()) {
            throw new IOException(outDir + " already holds checkpoints: pass --resume to continue that run, or choose another --out");
        }
        return new Trainer(config, modelConfig, tokenizer, outDir);
    }

    /** Continues the run saved in {@code outDir}'s latest checkpoint. */
    public static Trainer resume(Path outDir) throws IOException {
        Path checkpoint = TrainingCheckpoint.latest(outDir)
                .orElseThrow(() -> new IOException("no checkpoint to resume in " + outDir));
        TrainingCheckpoint.State state = TrainingCheckpoint.readState(checkpoint);
        Path json = checkpoint.resolve("config.json");
        Object modelConfig = state.config().replacedTokenDetection() ? ElectraConfig.load(json)
                : state.config().trainsEncoder() ? EncoderConfig.load(json) : GPT2Config.load(json);
        GPT2Tokenizer textTokenizer = state.config().readsText() ? GPT2Tokenizer.fromDirectory(checkpoint) : null;
        Trainer trainer = new Trainer(state.config(), modelConfig, textTokenizer, outDir);
        TrainingCheckpoint.restore(checkpoint, trainer.objective, trainer.optimizer);
        trainer.step = state.step();
        return trainer;
    }

    public TrainConfig config() {
        return config;
    }

    /** The GPT being trained; an error for the masked objectives (see {@link #encoder()}). */
    public TrainableGPT2 model() {
        if (objective instanceof CausalLm causal) return causal.model();
        throw new IllegalStateException("this run trains an encoder");
    }

    /** The RoBERTa encoder being trained; an error for the causal LM and for ELECTRA's pair. */
    public TrainableEncoder encoder() {
        return switch (objective) {
            case MaskedLm masked -> masked.model();
            case Contrastive contrastive -> contrastive.model();
            case TranslationLm translation -> translation.model();
            default -> throw new IllegalStateException("this run trains no RoBERTa encoder");
        };
    }

    /** Parameters being trained. */
    public long parameterCount() {
        return objective.parameters().stream().mapToLong(p -> p.value().length).sum();
    }

    /** What the validation's accuracy measures, in words. */
    public String accuracyName() {
        return objective.accuracyName();
    }

    /** The model's configuration and the objective, in words. */
    public String describe() {
        return objective.describe();
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
        RunLog log = new RunLog(outDir, step, objective.lossName());
        Listener listener = new Listener() {
            @Override
            public void onStep(StepMetrics metrics) {
                log.onStep(metrics);
                progress.onStep(metrics);
            }

            @Override
            public void onValidation(int step, double loss, double accuracy) {
                log.onValidation(step, loss, accuracy);
                progress.onValidation(step, loss, accuracy);
            }

            @Override
            public void onCheckpoint(int step, Path checkpoint) {
                log.onCheckpoint(step, checkpoint);
                progress.onCheckpoint(step, checkpoint);
            }
        };
        LearningRateSchedule schedule = config.schedule();
        long runStart = System.nanoTime();
        int firstStep = step;
        while (step < config.maxSteps()) {
            long stepStart = System.nanoTime();
            for (Parameter p : objective.parameters()) java.util.Arrays.fill(p.grad(), 0f);
            double loss = 0;
            long tokens = 0;
            for (int micro = 0; micro < config.gradAccum(); micro++) {
                long batchIndex = (long) step * config.gradAccum() + micro;
                Objective.Trained trained = objective.trainOn(batchIndex, 1f / config.gradAccum(),
                        BatchLoader.mix(config.seed() ^ 0x5DEECE66DL, batchIndex));
                loss += trained.loss();
                tokens += trained.tokens();
            }
            loss /= config.gradAccum();
            double lr = schedule.at(step);
            double norm = optimizer.step((float) lr, (float) config.gradClip());
            step++;

            double seconds = (System.nanoTime() - stepStart) / 1e9;
            double perStep = (System.nanoTime() - runStart) / 1e9 / (step - firstStep);
            listener.onStep(new StepMetrics(step, config.maxSteps(), loss, lr, norm, tokens, tokens / seconds,
                    perStep * (config.maxSteps() - step)));
            boolean last = step == config.maxSteps() || stop.getAsBoolean();
            if (last || (config.evalInterval() > 0 && step % config.evalInterval() == 0)) {
                validate().ifPresent(v -> listener.onValidation(step, v.loss(), v.accuracy()));
            }
            if (last || (config.checkpointInterval() > 0 && step % config.checkpointInterval() == 0)) {
                listener.onCheckpoint(step, TrainingCheckpoint.save(outDir, step, objective, optimizer, config, tokenizer));
            }
            if (last) return;
        }
    }

    /** Validation over the first {@code evalBatches} batches of the validation split, dropout off. */
    public Optional<Objective.Validation> validate() {
        return objective.validate(config.evalBatches());
    }

    @Override
    public void close() {
        if (train != null) train.close();
        if (val != null) val.close();
    }
}
