package org.jgpt.train.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jgpt.train.RepoFiles;
import org.jgpt.io.Checkpoints;
import org.jgpt.model.GPT2Weights;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A small version of the spam-versus-ham demo: the tiny random GPT-2 of data/fixtures/gpt2/full-vocab (2 layers,
 * 16 wide, GPT-2's tokenizer) fine-tuned on the first mails of data/finetune/spam-assassin/train.jsonl. A random model
 * of that size cannot generalise from a few dozen mails, so the checks are that training works (the mails are learnt,
 * the LM loss falls when it is on) and that the saved folder predicts what the trained model did.
 */
class SpamFineTuneTest {
    private static final Path MODEL = RepoFiles.find("data/fixtures/gpt2/full-vocab");

    @TempDir
    Path tmp;

    private static List<Example> mails(int count) {
        Path file = RepoFiles.find("data/finetune/spam-assassin/train.jsonl");
        return TaskData.read(file, Task.CLASSIFICATION, true).subList(0, count);
    }

    private record Run(FineTuner.Result result, List<Double> taskLosses, List<Double> lmLosses, List<Metrics.Report> epochs) {}

    private static Run fineTune(List<Example> mails, FineTuner.Settings settings) {
        List<Double> task = new ArrayList<>(), lm = new ArrayList<>();
        List<Metrics.Report> epochs = new ArrayList<>();
        try (GPT2Weights base = Checkpoints.load(MODEL)) {
            var result = FineTuner.train(base, GPT2Tokenizer.fromDirectory(MODEL), Task.CLASSIFICATION, mails, mails, settings,
                    new FineTuner.Listener() {
                        @Override
                        public void onStep(int step, int steps, int epoch, double loss, double taskLoss, double lmLoss, double lr) {
                            task.add(taskLoss);
                            lm.add(lmLoss);
                        }

                        @Override
                        public void onEpoch(int epoch, Metrics.Report validation) {
                            epochs.add(validation);
                        }
                    });
            return new Run(result, task, lm, epochs);
        }
    }

    @Test
    void learnsThirtyTwoMailsAndSavesAModelThatPredictsTheSame() throws IOException {
        List<Example> mails = mails(32);
        // a high rate and many epochs, no dropout and no LM loss: memorising is the point
        var settings = new FineTuner.Settings(1e-2, 8, 8, 20, 0.002, 0f, 0f, 0f, 0f, 1f, 48, 7);
        Run run = fineTune(mails, settings);
        Metrics.Report last = run.epochs().getLast();
        assertEquals(20, run.epochs().size());
        assertTrue(last.accuracy() >= 0.95, "training mails learnt: " + last);
        assertTrue(run.result().truncated() > 0, "mails are longer than 48 tokens");

        Path dir = tmp.resolve("spam");
        run.result().model().save(dir, GPT2Tokenizer.fromDirectory(MODEL));
        TaskModel.Spec spec = TaskModel.readSpec(dir);
        assertEquals(List.of("ham", "spam"), spec.labels());
        List<TaskModel.Encoded> encoded = FineTuner.encode(spec, mails, GPT2Tokenizer.fromDirectory(dir));
        float[][] before = FineTuner.predict(run.result().model(), encoded);
        float[][] after = FineTuner.predict(TaskModel.load(dir, 5, TaskModel.longest(encoded)), encoded);
        for (int i = 0; i < before.length; i++) {
            for (int k = 0; k < 2; k++) assertEquals(before[i][k], after[i][k], 1e-5, "mail " + i);
        }
        try (GPT2Weights lm = Checkpoints.load(dir)) {
            assertEquals(50257 + 3, lm.config().vocabSize(), "the saved folder opens as an LM with the three new tokens");
        }
        assertTrue(Files.readString(dir.resolve("config.json")).contains("\"GPT2ForSequenceClassification\""));
    }

    @Test
    void withTheAuxiliaryLossTheLmLossFalls() {
        var settings = new FineTuner.Settings(1e-2, 4, 4, 3, 0.002, 0.5f, 0.1f, 0.1f, 0.01f, 1f, 24, 7);
        Run run = fineTune(mails(8), settings);
        assertEquals(6, run.lmLosses().size());
        assertTrue(run.lmLosses().getLast() < run.lmLosses().getFirst() - 0.5, "LM loss " + run.lmLosses());
        for (double l : run.taskLosses()) assertTrue(Double.isFinite(l));
    }
}
