package org.jgpt.train;

/**
 * One contrastive batch through an encoder: 2 × n sequences (n anchors, then their n positives in the same order)
 * encoded, pooled, scored by {@link ContrastiveLoss}; and the way back to the encoder's parameters.
 */
final class ContrastiveStep {
    private final TrainableEncoder model;
    private final Pooling pooling;
    private final ContrastiveLoss loss;
    private final int sequences;
    private final int seqLen;
    private final int dim;
    private final int[] lengths;
    private final float[] pooled, dPooled, dHidden;

    /** {@code model}'s batch holds the 2 × n sequences. */
    ContrastiveStep(TrainableEncoder model, Pooling pooling, float temperature) {
        if (model.batchSize() % 2 != 0) throw new IllegalArgumentException("a contrastive batch holds pairs of sequences");
        this.model = model;
        this.pooling = pooling;
        this.sequences = model.batchSize();
        this.seqLen = model.seqLen();
        this.dim = model.config().hiddenSize();
        this.loss = new ContrastiveLoss(sequences / 2, dim, temperature);
        this.lengths = new int[sequences];
        this.pooled = new float[sequences * dim];
        this.dPooled = new float[sequences * dim];
        this.dHidden = new float[sequences * seqLen * dim];
    }

    /** The loss of the batch ({@code inputs} [2n × seqLen], right-padded to {@code lengths}), dropout when {@code training}. */
    float forward(int[] inputs, int[] lengths, boolean training, long dropoutSeed) {
        System.arraycopy(lengths, 0, this.lengths, 0, sequences);
        float[] hidden = model.encode(inputs, lengths, training, dropoutSeed);
        pooling.pool(hidden, lengths, sequences, seqLen, dim, pooled);
        return loss.forward(pooled);
    }

    /** Accumulates into the encoder's gradients that of {@code lossScale} × the last forward's loss. */
    void backward(float lossScale) {
        loss.backward(lossScale, dPooled);
        pooling.backward(dPooled, lengths, sequences, seqLen, dim, dHidden);
        model.backwardFromOutput(dHidden);
    }

    /** How many anchors of the last forward scored their own positive above every other. */
    int correct() {
        return loss.correct();
    }

    /** The last forward's pooled vectors [2n × hidden], anchors first; a live view. */
    float[] pooled() {
        return pooled;
    }
}
