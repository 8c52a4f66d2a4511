package org.jgpt.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jgpt.model.ElectraConfig;

/**
 * Everything a training run is, besides the model's own config: nanoGPT's knobs with GPT-2's defaults. Saved in each
 * checkpoint, so that {@code --resume} continues with exactly the same run.
 *
 * @param data          a directory made by {@code jgpt prepare}; for the contrastive objectives and tlm, a text or
 *                      JSONL file
 * @param gradAccum     micro-batches per optimizer step
 * @param decayEmbeddings whether weight decay applies to the embedding tables ({@link Parameter#embedding}) as well as
 *                        the other matrices
 * @param evalInterval  steps between validation losses (0: only at the end)
 * @param evalBatches   validation batches per evaluation (at most the whole validation split)
 * @param checkpointInterval steps between checkpoints (0: only at the end)
 * @param objective     "clm" (GPT-2), or an encoder's: a masked objective (mlm, wwm, span, alone or +sop or +nsp),
 *                      a contrastive one (simcse, contrastive-pairs), ELECTRA's replaced-token detection (rtd,
 *                      rtd-random), XLM's translation LM (tlm) or XLNet's permutation LM (plm)
 * @param maskRate      the share of tokens the masked objectives predict
 * @param temperature   the contrastive objectives' softmax temperature over cosine similarities
 * @param pooling       how the contrastive objectives pool a sequence: "mean" or "cls" ({@link Pooling})
 * @param fields        the JSON fields the contrastive objectives and tlm read; empty for {@link ContrastiveData}'s
 *                      defaults
 * @param generatorWidthRatio rtd: the generator's hidden size, feed-forward size and heads over the discriminator's
 * @param discriminatorWeight rtd: λ, the discriminator's loss weight beside the generator's
 */
public record TrainConfig(
        String data,
        int batchSize,
        int seqLen,
        int gradAccum,
        int maxSteps,
        double learningRate,
        double minLearningRate,
        int warmupSteps,
        double weightDecay,
        boolean decayEmbeddings,
        double beta1,
        double beta2,
        double gradClip,
        double dropout,
        int evalInterval,
        int evalBatches,
        int checkpointInterval,
        long seed,
        String objective,
        double maskRate,
        double temperature,
        String pooling,
        List<String> fields,
        double generatorWidthRatio,
        double discriminatorWeight) {

    /** A run with ELECTRA's replaced-token settings: a generator 1/4 as wide, λ = 50. */
    public TrainConfig(String data, int batchSize, int seqLen, int gradAccum, int maxSteps, double learningRate,
                       double minLearningRate, int warmupSteps, double weightDecay, boolean decayEmbeddings, double beta1,
                       double beta2, double gradClip, double dropout, int evalInterval, int evalBatches,
                       int checkpointInterval, long seed, String objective, double maskRate, double temperature,
                       String pooling, List<String> fields) {
        this(data, batchSize, seqLen, gradAccum, maxSteps, learningRate, minLearningRate, warmupSteps, weightDecay,
                decayEmbeddings, beta1, beta2, gradClip, dropout, evalInterval, evalBatches, checkpointInterval, seed,
                objective, maskRate, temperature, pooling, fields, 0.25, 50);
    }

    public TrainConfig {
        if (batchSize <= 0 || seqLen <= 0 || gradAccum <= 0 || maxSteps <= 0) {
            throw new IllegalArgumentException("batch size, sequence length, accumulation and steps must be positive");
        }
        if (dropout < 0 || dropout >= 1) throw new IllegalArgumentException("dropout must be in [0, 1): " + dropout);
        if (!(maskRate > 0 && maskRate < 1)) throw new IllegalArgumentException("masking rate must be in (0, 1): " + maskRate);
        if (!(temperature > 0)) throw new IllegalArgumentException("temperature must be positive: " + temperature);
        Pooling.parse(pooling);
        fields = List.copyOf(fields);
        boolean readsText = objective.equals(Contrastive.SIMCSE) || objective.equals(Contrastive.PAIRS)
                || objective.equals(TranslationLm.NAME);
        if (!readsText && !ReplacedTokenDetection.names(objective) && !objective.equals(PermutationLm.NAME)) {
            MaskedLm.Name.parse(objective);
        }
        if (!readsText && !fields.isEmpty()) {
            throw new IllegalArgumentException("fields apply to the contrastive objectives and tlm, not " + objective);
        }
        ElectraConfig.requireGeneratorRatio(generatorWidthRatio);
        if (!(discriminatorWeight > 0)) {
            throw new IllegalArgumentException("the discriminator's weight λ must be positive: " + discriminatorWeight);
        }
    }

    /** Whether the objective trains an encoder rather than GPT-2. */
    public boolean trainsEncoder() {
        return !objective.equals("clm");
    }

    /** Whether the objective is simcse or contrastive-pairs, which read text rather than a prepared corpus. */
    public boolean contrastive() {
        return objective.equals(Contrastive.SIMCSE) || objective.equals(Contrastive.PAIRS);
    }

    /** Whether the objective is ELECTRA's replaced-token detection (rtd, rtd-random), which trains an ELECTRA pair. */
    public boolean replacedTokenDetection() {
        return ReplacedTokenDetection.names(objective);
    }

    /** Whether the objective reads text (JSONL, or lines) rather than a prepared corpus: the contrastive ones and tlm. */
    public boolean readsText() {
        return contrastive() || objective.equals(TranslationLm.NAME);
    }

    LearningRateSchedule schedule() {
        return new LearningRateSchedule(learningRate, minLearningRate, warmupSteps, maxSteps, LearningRateSchedule.Decay.COSINE);
    }

    AdamW.Settings optimizerSettings() {
        return new AdamW.Settings((float) beta1, (float) beta2, 1e-8f, (float) weightDecay, decayEmbeddings);
    }

    Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("data", data);
        map.put("batch_size", batchSize);
        map.put("seq_len", seqLen);
        map.put("grad_accum", gradAccum);
        map.put("max_steps", maxSteps);
        map.put("learning_rate", learningRate);
        map.put("min_learning_rate", minLearningRate);
        map.put("warmup_steps", warmupSteps);
        map.put("weight_decay", weightDecay);
        map.put("decay_embeddings", decayEmbeddings);
        map.put("beta1", beta1);
        map.put("beta2", beta2);
        map.put("grad_clip", gradClip);
        map.put("dropout", dropout);
        map.put("eval_interval", evalInterval);
        map.put("eval_batches", evalBatches);
        map.put("checkpoint_interval", checkpointInterval);
        map.put("seed", seed);
        map.put("objective", objective);
        map.put("mask_rate", maskRate);
        map.put("temperature", temperature);
        map.put("pooling", pooling);
        map.put("fields", fields);
        map.put("generator_width_ratio", generatorWidthRatio);
        map.put("discriminator_weight", discriminatorWeight);
        return map;
    }

    static TrainConfig fromMap(Map<String, Object> map) {
        return new TrainConfig((String) map.get("data"), integer(map, "batch_size"), integer(map, "seq_len"),
                integer(map, "grad_accum"), integer(map, "max_steps"), number(map, "learning_rate"),
                number(map, "min_learning_rate"), integer(map, "warmup_steps"), number(map, "weight_decay"),
                (Boolean) map.get("decay_embeddings"), number(map, "beta1"), number(map, "beta2"),
                number(map, "grad_clip"), number(map, "dropout"), integer(map, "eval_interval"),
                integer(map, "eval_batches"), integer(map, "checkpoint_interval"), ((Number) map.get("seed")).longValue(),
                (String) map.getOrDefault("objective", "clm"), // runs saved before the masked objectives
                map.containsKey("mask_rate") ? number(map, "mask_rate") : 0.15,
                // runs saved before the contrastive objectives
                map.containsKey("temperature") ? number(map, "temperature") : 0.05,
                (String) map.getOrDefault("pooling", "mean"),
                map.containsKey("fields") ? ((List<?>) map.get("fields")).stream().map(String.class::cast).toList() : List.of(),
                // runs saved before replaced-token detection
                map.containsKey("generator_width_ratio") ? number(map, "generator_width_ratio") : 0.25,
                map.containsKey("discriminator_weight") ? number(map, "discriminator_weight") : 50);
    }

    private static int integer(Map<String, Object> map, String key) {
        return ((Number) map.get(key)).intValue();
    }

    private static double number(Map<String, Object> map, String key) {
        return ((Number) map.get(key)).doubleValue();
    }
}
