package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * An encoder with a classification head on its first token, as fine-tuning trains it: RoBERTa with
 * RobertaForSequenceClassification's head ({@link TrainableEncoder}) or ELECTRA with
 * ElectraForSequenceClassification's ({@link ElectraClassifier}). Fixed batches of {@link #batchSize} right-padded
 * sequences of up to {@link #seqLen} tokens; sequence b has {@code lengths[b]} tokens.
 */
public interface SequenceClassifier {
    int batchSize();

    int seqLen();

    List<Parameter> parameters();

    void zeroGrad();

    /**
     * The training forward, dropout on: the head's mean cross-entropy over the sequences whose {@code labels} entry
     * ([batch]) is a class; a negative label leaves its sequence out. Keeps what {@link #backward} needs.
     */
    float sentenceLoss(int[] inputs, int[] lengths, int[] labels, long dropoutSeed);

    /** Accumulates into each parameter's gradient that of {@code lossScale} × the last forward's loss. */
    void backward(float lossScale);

    /** The head's logits ([batch × classes]) for {@code inputs}, dropout off. A copy. */
    float[] sentenceLogits(int[] inputs, int[] lengths);

    /** The parameters (or, with {@code gradients}, their gradients) as Hugging Face names them, in its layout. */
    Map<String, float[]> huggingFaceTensors(boolean gradients);

    /** Writes a Hugging Face folder: config.json ({@code configExtra} added to the model's keys) and model.safetensors. */
    void save(Path dir, Map<String, Object> configExtra) throws IOException;
}
