package org.jgpt.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jgpt.train.finetune.Example;
import org.jgpt.train.finetune.FineTuner;
import org.jgpt.train.finetune.Task;
import org.jgpt.train.finetune.TaskData;
import org.jgpt.train.finetune.TaskModel;
import org.jgpt.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "classify", mixinStandardHelpOptions = true,
        description = {"Labels examples with a model made by 'jgpt finetune': one line per example, the predicted label and",
                "its probability, tab-separated. FILE is JSON Lines or CSV with the task's fields (as for finetune), or",
                "for classification any other text file, one text a line. When the examples carry labels, the metrics",
                "follow on standard error."})
final class ClassifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Fine-tuned model directory.")
    Path model;

    @Option(names = "--batch", defaultValue = "8", description = "Examples per forward (default: ${DEFAULT-VALUE}).")
    int batch;

    @Parameters(paramLabel = "FILE")
    Path file;

    @Override
    public Integer call() throws Exception {
        TaskModel.Spec taskSpec = TaskModel.readSpec(model);
        List<Example> examples = read(taskSpec.task());
        Tokenizer tokenizer;
        try (ModelDirectory dir = ModelDirectory.open(model)) {
            tokenizer = dir.tokenizer();
        }
        List<TaskModel.Encoded> encoded = FineTuner.encode(taskSpec, examples, tokenizer);
        int truncated = 0;
        boolean labelled = true;
        for (TaskModel.Encoded e : encoded) {
            if (e.truncated()) truncated++;
            labelled &= e.label() >= 0;
        }
        PrintWriter err = spec.commandLine().getErr();
        if (truncated > 0) {
            err.printf(Locale.ROOT, "warning: %d examples were longer than %d tokens and were truncated%n", truncated,
                    taskSpec.transform().maxLength());
        }
        TaskModel classifier = TaskModel.load(model, batch, TaskModel.longest(encoded));
        float[][] probabilities = FineTuner.predict(classifier, encoded);
        PrintWriter out = spec.commandLine().getOut();
        for (float[] p : probabilities) {
            int k = FineTuner.argmax(p);
            out.printf(Locale.ROOT, "%s\t%.4f%n", taskSpec.labels().get(k), p[k]);
        }
        out.flush();
        if (labelled) err.println("metrics: " + FinetuneCommand.format(FineTuner.evaluate(classifier, encoded)));
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
