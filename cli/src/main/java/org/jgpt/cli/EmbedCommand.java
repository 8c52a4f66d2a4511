package org.jgpt.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.jgpt.train.SentenceEncoder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "embed", mixinStandardHelpOptions = true,
        header = "Print sentence embeddings, one JSON array per line of text.",
        description = {"Prints, for each line of FILE, its sentence embedding as a JSON array on one line: the"
                + " encoder's output pooled as the model's config.json says (jgpt_pooling: mean or cls), for a model"
                + " trained with 'jgpt train --objective simcse' or '--objective contrastive-pairs'. Compare vectors by"
                + " cosine similarity, what they were trained on."},
        footerHeading = "%nExamples:%n",
        footer = {"  jgpt embed --model runs/simcse sentences.txt > vectors.jsonl",
                "  echo \"Out of memory\" | jgpt embed --model runs/simcse --normalize -"})
final class EmbedCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "A sentence encoder's directory.")
    Path model;

    @Option(names = "--normalize", description = "Scale each vector to unit length (as /v1/embeddings answers).")
    boolean normalize;

    @Parameters(paramLabel = "FILE", description = "Text, one input a line (an empty line too); - reads stdin.")
    String file;

    @Override
    public Integer call() throws IOException {
        SentenceEncoder encoder = SentenceEncoder.open(model);
        List<String> lines = lines();
        PrintWriter out = spec.commandLine().getOut();
        for (SentenceEncoder.Embedding e : encoder.embed(lines)) {
            float[] v = normalize ? unit(e.vector()) : e.vector();
            StringBuilder sb = new StringBuilder(v.length * 12).append('[');
            for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ", ").append(v[i]); // a float's shortest decimal
            out.println(sb.append(']'));
        }
        out.flush();
        return 0;
    }

    private List<String> lines() throws IOException {
        if (file.equals("-")) {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                return in.lines().toList();
            }
        }
        try {
            return Files.readAllLines(Path.of(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        } catch (java.nio.charset.MalformedInputException e) {
            throw new IllegalArgumentException(file + " is not valid UTF-8");
        }
    }

    private static float[] unit(float[] v) {
        double norm = 0;
        for (float x : v) norm += (double) x * x;
        float scale = (float) (1 / Math.max(Math.sqrt(norm), 1e-12));
        float[] u = new float[v.length];
        for (int i = 0; i < v.length; i++) u[i] = v[i] * scale;
        return u;
    }
}
