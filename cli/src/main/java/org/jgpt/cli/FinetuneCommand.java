package org.jgpt.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jgpt.io.Json;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.Tokenizer;
import org.jgpt.train.EncoderFolder;
import org.jgpt.train.finetune.EncoderTaskModel;
import org.jgpt.train.finetune.Example;
import org.jgpt.train.finetune.FineTunable;
import org.jgpt.train.finetune.FineTuner;
import org.jgpt.train.finetune.Metrics;
import org.jgpt.train.finetune.Task;
import org.jgpt.train.finetune.TaskData;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "finetune", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Fine-tune a GPT-2, GPT-1, RoBERTa or ELECTRA on a labelled task.",
        description = {"Fine-tunes a GPT-2 (or GPT-1) on a labelled task as GPT-1 did (Radford et al. 2018): task"
                + " input transformations with new start, delimiter and extract tokens, a linear head on the extract"
                + " token's final state, and the loss task + λ·LM.",
                "The data are JSON Lines or CSV (by extension), with these fields per task:",
                "  classification: text, label",
                "  entailment:     premise, hypothesis, label",
                "  similarity:     text1, text2, label",
                "  choice:         context, choices (CSV: choice1, choice2, ...), label (index)",
                "Prints each step and the validation metrics after each epoch (also to OUT/validation.jsonl), and saves"
                + " OUT as a Hugging Face folder (score.weight, id2label) that 'jgpt classify' and 'jgpt generate' open."
                + " Sequences longer than --max-length are truncated (the longest text loses its end), with a warning.",
                "A RoBERTa encoder (jgpt train --objective mlm) gets Hugging Face's RobertaForSequenceClassification"
                + " head instead, on <s> of '<s> A </s>' or '<s> A </s></s> B </s>', and no LM loss; OUT is then that"
                + " model's folder. So does an ELECTRA discriminator (the folder of jgpt train --objective rtd or"
                + " rtd-random), with ElectraForSequenceClassification's head (GELU where RoBERTa's has tanh)."},
        footerHeading = "%nExamples:%n",
        footer = {"  jgpt finetune --model models/demo --lr 5e-4 --out runs/spam \\",
                "      --train data/finetune/spam-assassin/train.jsonl \\",
                "      --valid data/finetune/spam-assassin/valid.jsonl",
                "  jgpt finetune --model runs/mlm --task entailment \\",
                "      --train rte-train.csv --valid rte-valid.csv --out runs/rte"})
final class FinetuneCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Pre-trained GPT-2, GPT-1, RoBERTa or ELECTRA directory.")
    Path model;

    @Option(names = "--task", defaultValue = "classification", paramLabel = "NAME", description = "classification, entailment, similarity or choice (default: ${DEFAULT-VALUE}).")
    String task;

    @Option(names = "--train", required = true, paramLabel = "FILE", description = "Training examples (.jsonl or .csv).") Path train;
    @Option(names = "--valid", required = true, paramLabel = "FILE", description = "Validation examples, scored after each epoch.") Path valid;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where the fine-tuned model goes.") Path out;

    @Option(names = "--lr", defaultValue = "6.25e-5", description = "Peak learning rate (default: ${DEFAULT-VALUE}).") double lr;
    @Option(names = "--batch", defaultValue = "32", description = "Examples per step (default: ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--micro-batch", defaultValue = "8", description = "Examples per forward; gradients accumulate to --batch (default: ${DEFAULT-VALUE}).") int microBatch;
    @Option(names = "--epochs", defaultValue = "3", description = "Passes over the training set (default: ${DEFAULT-VALUE}).") int epochs;
    @Option(names = "--warmup", defaultValue = "0.002", description = "Warmup, as a fraction of all steps; then linear decay to 0 (default: ${DEFAULT-VALUE}).") double warmup;
    @Option(names = "--lm-weight", description = "λ, the weight of the auxiliary LM loss; 0 turns it off (default: 0.5; an encoder has none).") Float lmWeight;
    @Option(names = "--dropout", defaultValue = "0.1", description = "Dropout in the model and on the head's input (default: ${DEFAULT-VALUE}).") float dropout;
    @Option(names = "--weight-decay", defaultValue = "0.01", description = "AdamW's decoupled weight decay (default: ${DEFAULT-VALUE}).") float weightDecay;
    @Option(names = "--grad-clip", defaultValue = "1.0", description = "Global-norm gradient clipping; 0 turns it off (default: ${DEFAULT-VALUE}).") float gradClip;
    @Option(names = "--max-length", description = "Longest sequence in tokens (default: the model's context).") Integer maxLength;
    @Option(names = "--seed", defaultValue = "42", description = "Seed of the new embeddings, the head, the shuffling and dropout (default: ${DEFAULT-VALUE}).") long seed;

    @Override
    public Integer call() throws Exception {
        Task t = Task.parse(task);
        boolean encoder = ModelDirectory.isEncoder(model);
        if (encoder) {
            if (lmWeight != null && lmWeight != 0) {
                throw new IllegalArgumentException("--lm-weight " + lmWeight + ": " + model + " is an encoder, which is fine-tuned"
                        + " on the task loss alone (no auxiliary LM loss); leave --lm-weight out");
            }
            EncoderTaskModel.requireSupported(t);
        }
        List<Example> trainSet = TaskData.read(train, t, true);
        List<Example> validSet = TaskData.read(valid, t, true);
        var err = spec.commandLine().getErr();
        if (encoder) {
            GPT2Tokenizer tokenizer = GPT2Tokenizer.fromDirectory(model);
            var settings = settings(EncoderFolder.of(model).maxLength(), 0f);
            err.printf(Locale.ROOT, "fine-tuning the encoder %s for %s: %d training and %d validation examples%n",
                    model, t.cliName(), trainSet.size(), validSet.size());
            var result = FineTuner.trainEncoder(model, tokenizer, t, trainSet, validSet, settings, progress(err));
            save(result.model(), result.truncated(), tokenizer);
        } else {
            try (ModelDirectory dir = ModelDirectory.open(model)) {
                float lambda = lmWeight == null ? 0.5f : lmWeight;
                var settings = settings(dir.weights().config().nPositions(), lambda);
                err.printf(Locale.ROOT, "fine-tuning %s for %s: %d training and %d validation examples, λ = %s%n",
                        model, t.cliName(), trainSet.size(), validSet.size(), lambda);
                var result = FineTuner.train(dir.weights(), dir.tokenizer(), t, trainSet, validSet, settings, progress(err));
                save(result.model(), result.truncated(), dir.tokenizer());
            }
        }
        return 0;
    }

    private FineTuner.Settings settings(int context, float lambda) {
        return new FineTuner.Settings(lr, batch, microBatch, epochs, warmup, lambda, dropout, dropout, weightDecay, gradClip,
                maxLength == null ? context : maxLength, seed);
    }

    /** Prints each step and each epoch's validation metrics, which also go to OUT/validation.jsonl. */
    private FineTuner.Listener progress(PrintWriter err) {
        Path log = out.resolve("validation.jsonl"); // out is made once the data have passed their checks
        long start = System.nanoTime();
        return new FineTuner.Listener() {
            @Override
            public void onStep(int step, int steps, int epoch, double loss, double taskLoss, double lmLoss, double rate) {
                double seconds = (System.nanoTime() - start) / 1e9;
                err.printf(Locale.ROOT, "epoch %d step %d/%d | loss %.4f (task %.4f, lm %.4f) | lr %.2e | ETA %ds%n",
                        epoch, step, steps, loss, taskLoss, lmLoss, rate, Math.round(seconds / step * (steps - step)));
                err.flush();
            }

            @Override
            public void onEpoch(int epoch, Metrics.Report r) {
                err.println("epoch " + epoch + " validation: " + format(r));
                err.flush();
                append(log, epoch, r);
            }
        };
    }

    private void save(FineTunable tuned, int truncated, Tokenizer tokenizer) {
        var err = spec.commandLine().getErr();
        if (truncated > 0) {
            err.printf(Locale.ROOT, "warning: %d examples were longer than %d tokens and were truncated%n", truncated,
                    tuned.spec().maxLength());
        }
        tuned.save(out, tokenizer);
        err.println("saved " + out);
    }

    static String format(Metrics.Report r) {
        String s = String.format(Locale.ROOT, "loss %.4f, accuracy %.4f, F1 %.4f, MCC %.4f", r.loss(), r.accuracy(), r.f1(), r.mcc());
        if (!Double.isNaN(r.pearson())) s += String.format(Locale.ROOT, ", Pearson %.4f, Spearman %.4f", r.pearson(), r.spearman());
        return s + " (" + r.examples() + " examples)";
    }

    private static void append(Path log, int epoch, Metrics.Report r) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("epoch", (long) epoch);
        line.put("examples", (long) r.examples());
        line.put("loss", r.loss());
        line.put("accuracy", r.accuracy());
        line.put("f1", r.f1());
        line.put("mcc", r.mcc());
        if (!Double.isNaN(r.pearson())) {
            line.put("pearson", r.pearson());
            line.put("spearman", r.spearman());
        }
        try {
            Files.createDirectories(log.getParent());
            Files.writeString(log, Json.write(line) + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    epoch == 1 ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + log + ": " + e.getMessage(), e);
        }
    }
}
