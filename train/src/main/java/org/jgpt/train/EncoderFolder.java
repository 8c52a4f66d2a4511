package org.jgpt.train;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jgpt.model.ElectraConfig;
import org.jgpt.model.EncoderConfig;

/**
 * A pre-trained encoder's folder as fine-tuning takes it, and what framing its inputs needs to know: the vocabulary
 * size, the padding id and the longest sequence. RoBERTa's layout (jgpt train --objective mlm and the other masked
 * objectives) or ELECTRA's (the discriminator that --objective rtd or rtd-random writes, or its generator).
 */
public record EncoderFolder(Path dir, Kind kind, int vocabSize, int padTokenId, int maxLength) {
    public enum Kind { ROBERTA, ELECTRA }

    /** Whether {@code dir} has a config.json of either kind. */
    public static boolean describes(Path dir) {
        Path configJson = dir.resolve("config.json");
        return Files.isRegularFile(configJson) && (EncoderConfig.describes(configJson) || ElectraConfig.describes(configJson));
    }

    /** {@code dir}'s encoder; an error that says what is needed when it is neither kind. */
    public static EncoderFolder of(Path dir) {
        Path configJson = dir.resolve("config.json");
        if (!Files.isRegularFile(configJson)) throw new IllegalArgumentException(dir + " has no config.json");
        if (ElectraConfig.describes(configJson)) {
            ElectraConfig config = ElectraConfig.load(configJson);
            return new EncoderFolder(dir, Kind.ELECTRA, config.vocabSize(), config.padTokenId(), config.maxLength());
        }
        if (EncoderConfig.describes(configJson)) {
            EncoderConfig config = EncoderConfig.load(configJson);
            return new EncoderFolder(dir, Kind.ROBERTA, config.vocabSize(), config.padTokenId(), config.maxLength());
        }
        throw new IllegalArgumentException(dir + " is not an encoder (its config.json has model_type neither roberta nor"
                + " electra): this needs one made by 'jgpt train --objective mlm' (or another masked objective) or"
                + " '--objective rtd'");
    }

    public Path configJson() {
        return dir.resolve("config.json");
    }

    /**
     * The encoder with a sequence-classification head over {@code classes} labels (Hugging Face's
     * RobertaForSequenceClassification or ElectraForSequenceClassification), for batches of {@code batch} ×
     * {@code seqLen}. Every tensor must be in the folder, unless {@code freshHead}: then a head it lacks starts from
     * BERT's initialisation, drawn from {@code seed}.
     */
    public SequenceClassifier classifier(int classes, int batch, int seqLen, float dropout, boolean freshHead, long seed) {
        return switch (kind) {
            case ROBERTA -> TrainableEncoder.open(dir, TrainableEncoder.Heads.classifier(classes), batch, seqLen, dropout,
                    freshHead, seed);
            case ELECTRA -> ElectraClassifier.open(dir, classes, batch, seqLen, dropout, freshHead, seed);
        };
    }
}
