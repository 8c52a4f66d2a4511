package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A model and the objective it learns: what {@link Trainer}'s loop asks of a GPT trained as a causal LM and of an
 * encoder trained on masked objectives alike. Each micro-batch is a function of (seed, index), so a resumed run
 * sees the same batches, masks and dropout as one never stopped.
 */
interface Objective {
    /** Validation figures; {@code accuracy} is what {@link #accuracyName} says, NaN for the causal LM. */
    record Validation(double loss, double accuracy) {}

    /** A trained micro-batch: its loss, and the tokens it held that were not padding, which throughput counts. */
    record Trained(float loss, long tokens) {}

    List<Parameter> parameters();

    /** The model's own initialisation (GPT-2's, or BERT's). */
    void initialize(long seed);

    /** Forward and backward of micro-batch {@code index}, the gradient scaled by {@code lossScale}. */
    Trained trainOn(long index, float lossScale, long dropoutSeed);

    /** Dropout off, over the first {@code batches} batches of the validation split; empty if it has none. */
    Optional<Validation> validate(int batches);

    /** What the loss is and its unit, as the loss plot labels its axis (e.g. "masked-token loss (nats / token)"). */
    String lossName();

    /** What the validation's accuracy measures, in words (e.g. "masked-token accuracy"). */
    String accuracyName();

    /** Writes the model in Hugging Face's layout (config.json, model.safetensors). */
    void saveModel(Path dir) throws IOException;

    /** Reads back every parameter that {@link #saveModel} wrote. */
    void loadModel(Path dir) throws IOException;

    /** The model's configuration, for the run's first line. */
    String describe();
}
