package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.jgpt.io.Json;
import org.jgpt.io.Safetensors;
import org.jgpt.kernel.Tensor;
import org.jgpt.tokenizer.GPT2Tokenizer;

/**
 * Checkpoints of a training run, each a directory {@code checkpoint-NNNNNN} inside the run's output directory:
 * the model in Hugging Face's layout ({@code config.json}, {@code model.safetensors}, tokenizer files), so that
 * transformers and jgpt open it as it is, and beside it the optimizer's moments ({@code optimizer.safetensors}) and
 * {@code trainer_state.json} (step, run config). The batch loader and dropout are functions of (seed, step), so
 * nothing else is needed to continue exactly.
 *
 * <p>A checkpoint is written under a temporary name and renamed into place, so a kill during a save leaves the last
 * good one intact. The output directory itself also gets the latest model files (hard links), so
 * {@code --model OUT} works.
 */
public final class TrainingCheckpoint {
    static final String PREFIX = "checkpoint-";
    private static final String STATE = "trainer_state.json";
    private static final String OPTIMIZER = "optimizer.safetensors";
    private static final String CONFIG = "config.json";
    private static final int KEEP = 2;

    /** What a checkpoint restores. */
    public record State(int step, TrainConfig config) {}

    private TrainingCheckpoint() {}

    /** Saves the state after {@code step} optimizer steps; returns the checkpoint directory. */
    static Path save(Path outDir, int step, Objective model, AdamW optimizer, TrainConfig config,
                            GPT2Tokenizer tokenizer) throws IOException {
        Files.createDirectories(outDir);
        Path target = outDir.resolve(String.format("%s%06d", PREFIX, step));
        Path temp = outDir.resolve(target.getFileName() + ".tmp");
        Directories.deleteRecursively(temp);
        Files.createDirectories(temp);
        try {
            model.saveModel(temp);
            List<Tensor> moments = new ArrayList<>();
            List<Parameter> parameters = model.parameters();
            for (int i = 0; i < parameters.size(); i++) {
                Parameter p = parameters.get(i);
                moments.add(Tensor.of(p.name() + ".exp_avg", optimizer.firstMoments()[i], p.shape()));
                moments.add(Tensor.of(p.name() + ".exp_avg_sq", optimizer.secondMoments()[i], p.shape()));
            }
            Safetensors.write(temp.resolve(OPTIMIZER), moments, Map.of("step", Integer.toString(optimizer.steps())));
            tokenizer.save(temp);
            Map<String, Object> state = new LinkedHashMap<>();
            state.put("step", step);
            state.put("optimizer_steps", optimizer.steps());
            state.put("config", config.toMap());
            Files.writeString(temp.resolve(STATE), Json.write(state) + "\n");
            Directories.deleteRecursively(target);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Directories.deleteRecursively(temp);
            throw e;
        }
        publish(outDir, target);
        prune(outDir);
        return target;
    }

    /** The newest complete checkpoint in {@code outDir}, if any. */
    public static Optional<Path> latest(Path outDir) throws IOException {
        if (!Files.isDirectory(outDir)) return Optional.empty();
        try (Stream<Path> entries = Files.list(outDir)) {
            return entries.filter(TrainingCheckpoint::isCheckpoint).max(Comparator.comparing(Path::toString));
        }
    }

    /** Reads a checkpoint's step and configs. */
    @SuppressWarnings("unchecked")
    public static State readState(Path checkpoint) throws IOException {
        Map<String, Object> state = Json.parseObject(Files.readString(checkpoint.resolve(STATE)));
        return new State(((Number) state.get("step")).intValue(),
                TrainConfig.fromMap((Map<String, Object>) state.get("config")));
    }

    /** Loads a checkpoint's parameters and optimizer moments into a model and optimizer of the same shape. */
    static void restore(Path checkpoint, Objective model, AdamW optimizer) throws IOException {
        model.loadModel(checkpoint);
        try (Safetensors moments = Safetensors.open(checkpoint.resolve(OPTIMIZER))) {
            List<Parameter> parameters = model.parameters();
            for (int i = 0; i < parameters.size(); i++) {
                Parameter p = parameters.get(i);
                read(moments.tensor(p.name() + ".exp_avg"), optimizer.firstMoments()[i]);
                read(moments.tensor(p.name() + ".exp_avg_sq"), optimizer.secondMoments()[i]);
            }
            optimizer.restore(Integer.parseInt(moments.metadata().get("step")));
        }
    }

    private static void read(Tensor tensor, float[] into) {
        if (tensor.size() != into.length) {
            throw new IllegalArgumentException(tensor.name() + ": " + tensor.size() + " values, expected " + into.length);
        }
        for (int i = 0; i < into.length; i++) into[i] = tensor.get(i);
    }

    private static boolean isCheckpoint(Path p) {
        String name = p.getFileName().toString();
        return name.startsWith(PREFIX) && !name.endsWith(".tmp") && Files.isRegularFile(p.resolve(STATE));
    }

    /**
     * Links the checkpoint's model files into the output directory, each replaced atomically; a folder (ELECTRA's
     * generator) is published file by file into a folder of the same name.
     */
    private static void publish(Path outDir, Path checkpoint) throws IOException {
        try (Stream<Path> files = Files.list(checkpoint)) {
            for (Path file : files.toList()) {
                String name = file.getFileName().toString();
                if (name.equals(STATE) || name.equals(OPTIMIZER)) continue;
                if (Files.isDirectory(file)) {
                    publish(Files.createDirectories(outDir.resolve(name)), file);
                    continue;
                }
                Path link = outDir.resolve(name + ".link");
                Files.deleteIfExists(link);
                try {
                    Files.createLink(link, file);
                } catch (UnsupportedOperationException | IOException e) {
                    Files.copy(file, link);
                }
                Files.move(link, outDir.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
        }
    }

    private static void prune(Path outDir) throws IOException {
        List<Path> checkpoints;
        try (Stream<Path> entries = Files.list(outDir)) {
            checkpoints = entries.filter(TrainingCheckpoint::isCheckpoint).sorted(Comparator.comparing(Path::toString)).toList();
        }
        for (int i = 0; i < checkpoints.size() - KEEP; i++) Directories.deleteRecursively(checkpoints.get(i));
    }
}
