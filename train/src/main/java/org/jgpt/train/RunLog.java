package org.jgpt.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A run's metrics as {@code metrics.csv} (one row per step, and one per validation) and {@code loss.png}, the
 * training and validation loss curves, redrawn at each validation and checkpoint. On resume, rows past the
 * checkpoint's step are dropped, so the file reads as one uninterrupted run.
 */
final class RunLog implements Trainer.Listener {
    private static final String HEADER = "step,train_loss,val_loss,learning_rate,grad_norm,tokens_per_second,val_accuracy";
    private final Path csv;
    private final Path png;
    private final List<double[]> trainLoss = new ArrayList<>();
    private final List<double[]> valLoss = new ArrayList<>();
    private final List<String> rows = new ArrayList<>();
    private final String lossName;

    RunLog(Path outDir, int resumedStep, String lossName) throws IOException {
        this.lossName = lossName;
        this.csv = outDir.resolve("metrics.csv");
        this.png = outDir.resolve("loss.png");
        Files.createDirectories(outDir);
        if (resumedStep > 0 && Files.exists(csv)) {
            for (String line : Files.readAllLines(csv)) {
                if (line.startsWith("step,") || line.isBlank()) continue;
                String[] f = line.split(",", -1);
                if (Integer.parseInt(f[0]) > resumedStep) continue;
                rows.add(line);
                if (!f[1].isEmpty()) trainLoss.add(new double[] {Integer.parseInt(f[0]), Double.parseDouble(f[1])});
                if (!f[2].isEmpty()) valLoss.add(new double[] {Integer.parseInt(f[0]), Double.parseDouble(f[2])});
            }
        }
        rewrite();
    }

    @Override
    public void onStep(Trainer.StepMetrics m) {
        trainLoss.add(new double[] {m.step(), m.loss()});
        append(String.format(Locale.ROOT, "%d,%.6f,,%.6g,%.6f,%.1f,", m.step(), m.loss(), m.learningRate(), m.gradNorm(),
                m.tokensPerSecond()));
    }

    @Override
    public void onValidation(int step, double loss, double accuracy) {
        valLoss.add(new double[] {step, loss});
        append(String.format(Locale.ROOT, "%d,,%.6f,,,,%s", step, loss,
                Double.isNaN(accuracy) ? "" : String.format(Locale.ROOT, "%.6f", accuracy)));
        plot();
    }

    @Override
    public void onCheckpoint(int step, Path checkpoint) {
        plot();
    }

    private void append(String row) {
        rows.add(row);
        try {
            Files.writeString(csv, row + "\n", java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void rewrite() throws IOException {
        Files.writeString(csv, HEADER + "\n" + (rows.isEmpty() ? "" : String.join("\n", rows) + "\n"));
    }

    private void plot() {
        try {
            LossPlot.write(png, lossName, trainLoss, valLoss);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
