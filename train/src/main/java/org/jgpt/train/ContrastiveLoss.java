package org.jgpt.train;

import org.jgpt.kernel.Backprop;

/**
 * InfoNCE over in-batch negatives, as SimCSE and sentence-transformers' MultipleNegativesRankingLoss compute it: for
 * n anchors and their n positives, {@code s[i][j] = cos(anchor i, positive j) / temperature}, and the loss is the
 * mean cross-entropy of each row i against column i; every other positive of the batch is a negative of anchor i.
 * (MultipleNegativesRankingLoss's {@code scale} is 1 / temperature.)
 */
final class ContrastiveLoss {
    /** torch.nn.functional.normalize's floor on a vector's norm. */
    private static final float NORM_FLOOR = 1e-12f;

    private final int pairs;
    private final int dim;
    private final float temperature;
    private final float[] units;   // [2 × pairs, dim]: the pooled vectors over their norms, anchors first
    private final float[] norms;   // [2 × pairs], floored
    private final float[] scores;  // [pairs, pairs]; after forward, each row's softmax, then in backward its gradient
    private final float[] losses;
    private final int[] targets;
    private final float[] dUnits;
    private int correct;

    ContrastiveLoss(int pairs, int dim, float temperature) {
        if (!(temperature > 0)) throw new IllegalArgumentException("temperature must be positive: " + temperature);
        this.pairs = pairs;
        this.dim = dim;
        this.temperature = temperature;
        units = new float[2 * pairs * dim];
        norms = new float[2 * pairs];
        scores = new float[pairs * pairs];
        losses = new float[pairs];
        targets = new int[pairs];
        for (int i = 0; i < pairs; i++) targets[i] = i;
        dUnits = new float[2 * pairs * dim];
    }

    /** The loss for {@code pooled} ([2 × pairs, dim]: the anchors, then their positives in the same order). */
    float forward(float[] pooled) {
        for (int r = 0; r < 2 * pairs; r++) {
            double sum = 0;
            for (int i = 0; i < dim; i++) sum += (double) pooled[r * dim + i] * pooled[r * dim + i];
            norms[r] = Math.max((float) Math.sqrt(sum), NORM_FLOOR);
            for (int i = 0; i < dim; i++) units[r * dim + i] = pooled[r * dim + i] / norms[r];
        }
        correct = 0;
        for (int a = 0; a < pairs; a++) {
            int best = 0;
            for (int p = 0; p < pairs; p++) {
                scores[a * pairs + p] = dot(a, pairs + p) / temperature;
                if (scores[a * pairs + p] > scores[a * pairs + best]) best = p;
            }
            if (best == a) correct++;
        }
        return Backprop.crossEntropyForward(losses, scores, targets, pairs, pairs);
    }

    /** How many anchors of the last forward scored their own positive above every other. */
    int correct() {
        return correct;
    }

    /** Writes into {@code dPooled} ([2 × pairs, dim]) the gradient of {@code lossScale} × the last forward's loss. */
    void backward(float lossScale, float[] dPooled) {
        Backprop.crossEntropyBackward(scores, targets, pairs, pairs, lossScale);
        java.util.Arrays.fill(dUnits, 0f);
        for (int a = 0; a < pairs; a++) {
            for (int p = 0; p < pairs; p++) {
                float g = scores[a * pairs + p] / temperature;
                int ua = a * dim, up = (pairs + p) * dim;
                for (int i = 0; i < dim; i++) {
                    dUnits[ua + i] += g * units[up + i];
                    dUnits[up + i] += g * units[ua + i];
                }
            }
        }
        // u = x / max(|x|, floor): du/dx = (I - u uᵀ) / |x| above the floor, I / floor below it
        for (int r = 0; r < 2 * pairs; r++) {
            int o = r * dim;
            double along = 0;
            for (int i = 0; i < dim; i++) along += (double) units[o + i] * dUnits[o + i];
            boolean floored = norms[r] == NORM_FLOOR;
            for (int i = 0; i < dim; i++) {
                dPooled[o + i] = (dUnits[o + i] - (floored ? 0f : (float) along * units[o + i])) / norms[r];
            }
        }
    }

    private float dot(int row, int other) {
        double sum = 0;
        for (int i = 0; i < dim; i++) sum += (double) units[row * dim + i] * units[other * dim + i];
        return (float) sum;
    }
}
