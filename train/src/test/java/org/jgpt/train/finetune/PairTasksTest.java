package org.jgpt.train.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.jgpt.train.RepoFiles;
import org.jgpt.io.Checkpoints;
import org.jgpt.model.GPT2Weights;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.junit.jupiter.api.Test;

/**
 * Similarity (numeric labels) and multiple choice through the whole fine-tuning loop on the tiny full-vocabulary
 * fixture: the reported metrics are those of the returned model's predictions, recomputed here from the definitions
 * (Pearson and Spearman of Σ p·label against the gold value; accuracy of the most probable answer).
 */
class PairTasksTest {
    private static final FineTuner.Settings QUICK = new FineTuner.Settings(1e-3, 4, 4, 2, 0.002, 0f, 0f, 0f, 0f, 1f, 24, 3);

    private record Outcome(FineTuner.Result result, Metrics.Report report) {}

    private static Outcome run(Task task, List<Example> examples) {
        var model = RepoFiles.find("data/fixtures/gpt2/full-vocab");
        List<Metrics.Report> reports = new ArrayList<>();
        try (GPT2Weights base = Checkpoints.load(model)) {
            var result = FineTuner.train(base, GPT2Tokenizer.fromDirectory(model), task, examples, examples, QUICK,
                    new FineTuner.Listener() {
                        @Override
                        public void onStep(int step, int steps, int epoch, double loss, double taskLoss, double lmLoss, double lr) {}

                        @Override
                        public void onEpoch(int epoch, Metrics.Report validation) {
                            reports.add(validation);
                        }
                    });
            return new Outcome(result, reports.getLast());
        }
    }

    @Test
    void similarityReportsCorrelationsOfTheExpectedScore() {
        String[][] pairs = {{"a cat sat", "a cat sat down", "2"}, {"the sky", "green eggs", "0"}, {"I run", "I am running", "2"},
                {"dogs bark", "a dog barks loudly", "1"}, {"rain", "sunshine", "0"}, {"red car", "a red car", "1"}};
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < pairs.length; i++) examples.add(new Example(List.of(pairs[i][0], pairs[i][1]), pairs[i][2], "pairs:" + i));
        Outcome o = run(Task.SIMILARITY, examples);
        TaskModel model = o.result().model();
        assertEquals(List.of("0", "1", "2"), model.spec().labels());
        List<TaskModel.Encoded> encoded = FineTuner.encode(model.spec(), examples, GPT2Tokenizer.gpt2());
        float[][] p = FineTuner.predict(model, encoded);
        double[] expected = new double[p.length], gold = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            expected[i] = p[i][1] + 2.0 * p[i][2];
            gold[i] = Double.parseDouble(pairs[i][2]);
        }
        assertEquals(Metrics.pearson(expected, gold), o.report().pearson(), 1e-6); // float probabilities
        assertEquals(Metrics.spearman(expected, gold), o.report().spearman(), 1e-6);
    }

    @Test
    void choiceTakesTheSoftmaxOverTheAnswers() {
        List<Example> examples = List.of(
                new Example(List.of("The sun rises in the", "east", "west", "sea"), "0", "choice:1"),
                new Example(List.of("Two plus two is", "three", "four", "five"), "1", "choice:2"),
                new Example(List.of("Snow is", "hot", "green", "cold"), "2", "choice:3"));
        Outcome o = run(Task.CHOICE, examples);
        TaskModel model = o.result().model();
        assertEquals(List.of("0", "1", "2"), model.spec().labels());
        float[][] p = FineTuner.predict(model, FineTuner.encode(model.spec(), examples, GPT2Tokenizer.gpt2()));
        int right = 0;
        for (int i = 0; i < p.length; i++) {
            assertEquals(1.0, p[i][0] + p[i][1] + p[i][2], 1e-5, "a distribution over the three answers");
            if (FineTuner.argmax(p[i]) == i) right++;
        }
        assertEquals(right / 3.0, o.report().accuracy(), 1e-12);
        assertTrue(Double.isNaN(o.report().pearson()), "no correlations for answer indices");
    }
}
