package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.jgpt.model.GPT2Config;
import org.junit.jupiter.api.Test;

/**
 * Every parameter tensor's analytic gradient against central finite differences of the loss, on a tiny model with
 * dropout on (the masks depend only on the seed, so the loss is a deterministic function of the parameters) and
 * the per-layer attention scaling of scale_attn_by_inverse_layer_idx. With h = 4e-3 on a float32 loss, the check
 * allows |fd - analytic| ≤ 1e-3 + 1e-2·|analytic|.
 */
class FiniteDifferenceTest {
    @Test
    void analyticGradientsMatchFiniteDifferencesForEveryTensor() {
        GPT2Config config = new GPT2Config(31, 8, 12, 2, 3, 20, 1e-5f, "gelu_new", true, true, 30, 30);
        int batch = 2;
        int seqLen = 6;
        TrainableGPT2 model = new TrainableGPT2(config, batch, seqLen, 0.1f);
        SplittableRandom random = new SplittableRandom(99);
        for (Parameter p : model.parameters()) {
            for (int i = 0; i < p.value().length; i++) {
                p.value()[i] = (float) ((p.matrix() ? 0.3 : 0.1) * random.nextGaussian() + (p.name().contains("ln_") && p.name().endsWith("weight") ? 1 : 0));
            }
        }
        int[] inputs = random.ints(batch * seqLen, 0, config.vocabSize()).toArray();
        int[] targets = random.ints(batch * seqLen, 0, config.vocabSize()).toArray();
        long seed = 5;
        model.forward(inputs, targets, seed);
        model.zeroGrad();
        model.backward(1f);
        float h = 4e-3f;
        for (Parameter p : model.parameters()) {
            for (int k = 0; k < 4; k++) {
                int i = random.nextInt(p.value().length);
                float original = p.value()[i];
                p.value()[i] = original + h;
                double plus = model.forward(inputs, targets, seed);
                p.value()[i] = original - h;
                double minus = model.forward(inputs, targets, seed);
                p.value()[i] = original;
                double numeric = (plus - minus) / (2 * h);
                double analytic = p.grad()[i];
                assertTrue(Math.abs(numeric - analytic) <= 1e-3 + 1e-2 * Math.abs(analytic),
                        p.name() + "[" + i + "]: finite difference " + numeric + ", backward " + analytic);
            }
        }
    }
}
