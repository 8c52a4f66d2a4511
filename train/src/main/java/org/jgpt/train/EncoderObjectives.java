package org.jgpt.train;

import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.RobertaTokens;
import org.jgpt.train.objective.EncoderBatches;

/** What the encoder objectives that read windows of a prepared corpus (mlm, rtd, plm) check and build alike. */
final class EncoderObjectives {
    private EncoderObjectives() {}

    /** The tokenizer's special tokens, once the encoder is known to cover its vocabulary and pad with its {@code <pad>}. */
    static RobertaTokens specialTokens(int vocabSize, int padTokenId, GPT2Tokenizer tokenizer) {
        RobertaTokens special = RobertaTokens.of(tokenizer);
        if (vocabSize < tokenizer.vocabSize()) {
            throw new IllegalArgumentException("the encoder's vocabulary (" + vocabSize
                    + ") is smaller than the corpus's (" + tokenizer.vocabSize() + ")");
        }
        if (padTokenId != special.pad()) {
            throw new IllegalArgumentException("the encoder's pad_token_id (" + padTokenId
                    + ") is not the vocabulary's <pad> (" + special.pad() + ")");
        }
        return special;
    }

    /** The run's batches of the training split. */
    static EncoderBatches trainBatches(TokenDataset data, RobertaTokens special, GPT2Tokenizer tokenizer, TrainConfig config) {
        return new EncoderBatches(data, special, tokenizer.documentSeparator(), config.batchSize(), config.seqLen(), config.seed());
    }

    /** The run's batches of the validation split, or null when it is no longer than a row. */
    static EncoderBatches validationBatches(TokenDataset data, RobertaTokens special, GPT2Tokenizer tokenizer,
                                            TrainConfig config) {
        return data.size() > config.seqLen() ? trainBatches(data, special, tokenizer, config) : null;
    }
}
