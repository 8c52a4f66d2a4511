package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jgpt.kernel.DType;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Weights;
import org.junit.jupiter.api.Test;

/** Q8_0 weights are for inference: training or fine-tuning from them is refused with a clear error. */
class QuantizedInitTest {
    @Test
    void trainingFromQ8WeightsIsRefused() {
        GPT2Config config = new GPT2Config(64, 16, 32, 1, 2, 128, 1e-5f, "gelu_new", true, false, 63, 63);
        try (GPT2Weights weights = GPT2Weights.random(config, 1, DType.F32)) {
            GPT2Weights quantized = weights.quantizeQ8();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new TrainableGPT2(config, 1, 16, 0f).load(quantized));
            assertTrue(e.getMessage().contains("Q8_0"), e.getMessage());
        }
    }
}
