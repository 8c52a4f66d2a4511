package org.jgpt.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.Tokenizer;
import org.jgpt.train.finetune.EncoderTaskModel;
import org.jgpt.train.finetune.Example;
import org.jgpt.train.finetune.FineTunable;
import org.jgpt.train.finetune.FineTuner;
import org.jgpt.train.finetune.Task;
import org.jgpt.train.finetune.TaskData;
import org.jgpt.train.finetune.TaskModel;
import org.jgpt.train.finetune.TaskSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "classify", mixinStandardHelpOptions = true,
        header = "Label examples with a model made by 'jgpt finetune'.",
        description = {"Labels examples with a model made by 'jgpt finetune' (from a GPT-2, RoBERTa or ELECTRA): one"
                + " line per example, the predicted label and its probability, tab-separated. FILE is JSON Lines or CSV"
                + " with the task's fields (as for finetune), or for classification any other text file, one text a"
                + " line. When the examples carry labels, the metrics follow on stderr."},
        footerHeading = "%nExamples:%n",
        footer = {"  jgpt classify --model runs/spam data/finetune/spam-assassin/test.jsonl",
                "  jgpt classify --model runs/spam mails.txt > labels.tsv"})
final class ClassifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Fine-tuned model directory.")
    Path model;

    @Option(names = "--batch", defaultValue = "8", description = "Examples per forward (default: ${DEFAULT-VALUE}).")
    int batch;

    @Parameters(paramLabel = "FILE", description = "Examples: .jsonl or .csv with the task's fields, or text, one a line.")
    Path file;

    @Override
    public Integer call() throws Exception {
        return ModelDirectory.isEncoder(model) ? classifyWithEncoder() : classifyWithGpt();
    }

    private int classifyWithGpt() throws Exception {
        TaskModel.Spec taskSpec = TaskModel.readSpec(model);
        List<Example> examples = read(taskSpec.task());
        Tokenizer tokenizer;
        try (ModelDirectory dir = ModelDirectory.open(model)) {
            tokenizer = dir.tokenizer();
        }
        List<TaskModel.Encoded> encoded = encode(taskSpec, examples, tokenizer);
        return print(TaskModel.load(model, batch, TaskModel.longest(encoded)), encoded);
    }

    private int classifyWithEncoder() throws Exception {
        GPT2Tokenizer tokenizer = GPT2Tokenizer.fromDirectory(model);
        EncoderTaskModel.Spec taskSpec = EncoderTaskModel.readSpec(model, tokenizer);
        List<TaskModel.Encoded> encoded = encode(taskSpec, read(taskSpec.task()), tokenizer);
        return print(EncoderTaskModel.load(model, taskSpec, batch, TaskModel.longest(encoded)), encoded);
    }

    /** The examples framed for the model, with a warning that counts those truncated. */
    private List<TaskModel.Encoded> encode(TaskSpec taskSpec, List<Example> examples, Tokenizer tokenizer) {
        List<TaskModel.Encoded> encoded = FineTuner.encode(taskSpec, examples, tokenizer);
        int truncated = 0;
        for (TaskModel.Encoded e : encoded) if (e.truncated()) truncated++;
        if (truncated > 0) {
            spec.commandLine().getErr().printf(Locale.ROOT, "warning: %d examples were longer than %d tokens and were truncated%n",
                    truncated, taskSpec.maxLength());
        }
        return encoded;
    }

    /** One line per example, the most probable label and its probability; then the metrics, if every example has a label. */
    private int print(FineTunable classifier, List<TaskModel.Encoded> encoded) {
        float[][] probabilities = FineTuner.predict(classifier, encoded);
        PrintWriter out = spec.commandLine().getOut();
        List<String> labels = classifier.spec().labels();
        for (float[] p : probabilities) {
            int k = FineTuner.argmax(p);
            out.printf(Locale.ROOT, "%s\t%.4f%n", labels.get(k), p[k]);
        }
        out.flush();
        boolean labelled = encoded.stream().allMatch(e -> e.label() >= 0);
        if (labelled) spec.commandLine().getErr().println("metrics: " + FinetuneCommand.format(FineTuner.evaluate(classifier, encoded)));
        return 0;
    }

    private List<Example> read(Task task) throws Exception {
        String name = file.getFileName().toString();
        if (name.endsWith(".jsonl") || name.endsWith(".json") || name.endsWith(".csv")) return TaskData.read(file, task, false);
        if (task != Task.CLASSIFICATION) {
            throw new IllegalArgumentException(file + ": a " + task.cliName() + " model reads JSON Lines (.jsonl) or CSV (.csv)");
        }
        List<Example> examples = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).isBlank()) examples.add(new Example(List.of(lines.get(i)), null, file + ":" + (i + 1)));
        }
        if (examples.isEmpty()) throw new IllegalArgumentException(file + ": no examples");
        return examples;
    }
}
