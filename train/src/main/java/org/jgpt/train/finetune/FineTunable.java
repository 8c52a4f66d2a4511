package org.jgpt.train.finetune;

import java.nio.file.Path;
import java.util.List;
import org.jgpt.tokenizer.Tokenizer;
import org.jgpt.train.Parameter;

/**
 * A pre-trained model with a task head, as {@link FineTuner} trains, evaluates and saves it: GPT-2 with GPT-1's head
 * ({@link TaskModel}) or a RoBERTa or ELECTRA encoder with Hugging Face's sequence-classification head
 * ({@link EncoderTaskModel}).
 */
public interface FineTunable {
    TaskSpec spec();

    /** The most examples one forward takes. */
    int examplesPerForward();

    List<Parameter> parameters();

    void zeroGrad();

    /**
     * Forward and backward on up to {@link #examplesPerForward} labelled examples, accumulating the gradient of
     * {@code share} × (task loss + {@code lmWeight} × LM loss), where {@code share} is these examples' part of the
     * optimizer batch. Dropout is drawn from {@code seed}.
     */
    TaskModel.Losses trainStep(List<TaskModel.Encoded> examples, float lmWeight, float share, long seed);

    /** Class probabilities of up to {@link #examplesPerForward} examples, dropout off: [example][class]. */
    float[][] predict(List<TaskModel.Encoded> examples);

    /** Saves a Hugging Face model folder: weights, config.json with the labels and the task, the tokenizer's files. */
    void save(Path dir, Tokenizer tokenizer);
}
