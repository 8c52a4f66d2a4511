package org.jgpt.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jgpt.generate.Scorer;
import org.jgpt.io.Checkpoints;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.GPT2Weights;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.junit.jupiter.api.Test;

/**
 * Q8_0 against F32 on the repository's demo model (models/demo), on its held-out text (the State of the Union
 * addresses of 2010-2021, data/corpora/sotu). To stay fast it takes one held-out address for perplexity (windows of
 * 256 tokens, not overlapping) and 2,000 characters of another for log-probabilities. Stated tolerances: the
 * perplexity rises by at most 1% (and falls by at most 1%: Q8_0 must not change the model either way), and each
 * token's log-probability moves by at most 0.05 nats, the mean move at most 0.01.
 */
class QuantizedDemoModelTest {
    private static final Path DEMO = Path.of("..", "models", "demo");
    private static final Path HELD_OUT = Path.of("..", "data", "corpora", "sotu");

    @Test
    void q8KeepsPerplexityAndLogprobsOfTheHeldOutText() throws Exception {
        GPT2Tokenizer tokenizer = GPT2Tokenizer.fromDirectory(DEMO);
        String address = Files.readString(HELD_OUT.resolve("2010_barack_obama_d.txt"));
        String fixed = Files.readString(HELD_OUT.resolve("2020_donald_j_trump_r.txt")).substring(0, 2000);
        PerplexityTask task = new PerplexityTask(Detokenizer.NONE, 256, 256, true);
        try (GPT2Weights weights = Checkpoints.load(DEMO)) {
            GPT2Model f32 = new GPT2Model(weights);
            double f32Perplexity = perplexity(task, f32, tokenizer, address);
            Scorer.TextScore f32Score = new Scorer(f32).scoreText(tokenizer, fixed, true);

            GPT2Model q8 = new GPT2Model(weights.quantizeQ8());
            double q8Perplexity = perplexity(task, q8, tokenizer, address);
            Scorer.TextScore q8Score = new Scorer(q8).scoreText(tokenizer, fixed, true);

            double rise = q8Perplexity / f32Perplexity - 1;
            assertTrue(Math.abs(rise) <= 0.01, "perplexity " + f32Perplexity + " (F32) -> " + q8Perplexity + " (Q8_0)");
            assertEquals(f32Score.logprobs().length, q8Score.logprobs().length);
            double maxMove = 0, meanMove = 0;
            for (int i = 0; i < f32Score.logprobs().length; i++) {
                double move = Math.abs(q8Score.logprobs()[i] - f32Score.logprobs()[i]);
                maxMove = Math.max(maxMove, move);
                meanMove += move / f32Score.logprobs().length;
            }
            System.out.printf("demo model, Q8_0 against F32: perplexity %.4f -> %.4f (%+.3f%%); log-probabilities of %d"
                    + " tokens move by at most %.4f nats, on average %.5f%n", f32Perplexity, q8Perplexity, 100 * rise,
                    f32Score.logprobs().length, maxMove, meanMove);
            assertTrue(maxMove <= 0.05, "largest log-probability move " + maxMove);
            assertTrue(meanMove <= 0.01, "mean log-probability move " + meanMove);
        }
    }

    private static double perplexity(PerplexityTask task, GPT2Model model, GPT2Tokenizer tokenizer, String text) {
        EvalResult result = task.run(new LanguageModel(model, tokenizer), List.of(text), Progress.NONE);
        return ((Number) result.metrics().get("token_perplexity")).doubleValue();
    }
}
