package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.jgpt.model.EncoderConfig;

/**
 * A saved encoder's masked-token loss and accuracy on the validation split of a corpus made by 'jgpt prepare', under
 * one masking chosen here rather than the one it was trained with, so that encoders trained with different
 * objectives are measured alike. The windows are the split's consecutive ones and the masks are those that training
 * validates on, a function of the seed.
 */
public final class MaskedLmEvaluation {
    /** Mean loss per window batch (nats per predicted token), the share of predicted tokens guessed right, batches used. */
    public record Result(double loss, double accuracy, long batches) {}

    private MaskedLmEvaluation() {}

    /**
     * @param masking  mlm, wwm or span
     * @param seqLen   tokens per window, at most the encoder's maximum length
     * @param batches  window batches to score at most (the split's length limits it)
     */
    public static Result run(Path modelDir, Path data, String masking, double maskRate, int batch, int seqLen,
                             long seed, int batches) throws IOException {
        EncoderConfig encoder = EncoderConfig.load(TrainableEncoder.requireMaskedLm(modelDir));
        if (seqLen > encoder.maxLength()) {
            throw new IllegalArgumentException("windows of " + seqLen + " tokens exceed the encoder's " + encoder.maxLength());
        }
        if (MaskedLm.Name.parse(masking) == null || masking.contains("+")) {
            throw new IllegalArgumentException("masking must be mlm, wwm or span, not '" + masking + "'");
        }
        TrainConfig config = new TrainConfig(data.toString(), batch, seqLen, 1, 1, 0, 0, 0, 0, false, 0.9, 0.999, 0, 0,
                0, batches, 0, seed, masking, maskRate, 0.05, "mean", List.of());
        try (TokenDataset train = TokenDataset.open(data, "train"); TokenDataset val = TokenDataset.open(data, "val")) {
            if (val.size() <= seqLen) throw new IllegalArgumentException(data + " has no validation split longer than " + seqLen + " tokens");
            MaskedLm objective = new MaskedLm(encoder, config, train, val, TokenDataset.tokenizer(data));
            objective.loadModel(modelDir);
            long used = Math.min(batches, objective.validationBatches());
            Objective.Validation v = objective.validate(batches).orElseThrow();
            return new Result(v.loss(), v.accuracy(), used);
        }
    }
}
