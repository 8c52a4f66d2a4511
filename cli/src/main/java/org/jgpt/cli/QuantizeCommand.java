package org.jgpt.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.jgpt.io.Checkpoints;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "quantize", mixinStandardHelpOptions = true,
        header = "Save a GPT with 8-bit weights (Q8_0), a quarter of F32's size.",
        footerHeading = "%nExamples:%n",
        footer = {"  jgpt quantize --model models/demo --out demo-q8",
                "  jgpt quantize --model gpt2-medium --out gpt2-medium-q8"},
        description = "Saves a GPT with its weight matrices and token embedding in Q8_0 (llama.cpp's 8-bit blocks: 32"
                + " int8 values and one F16 scale), so that it loads without the F32 file; generate, score, eval, serve"
                + " and bench recognise the folder. LayerNorms, biases and the position embedding stay as stored; the"
                + " tokenizer files are copied. --out must not exist: the folder appears only when complete.")
final class QuantizeCommand implements Callable<Integer> {
    /** What a model folder holds besides its weights and config.json that loading or generating may read. */
    private static final List<String> TOKENIZER_FILES = List.of("vocab.json", "merges.txt", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "generation_config.json");

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "The GPT-2 (or GPT-1) folder to quantize.")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The new folder to write; must not exist.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException("--out " + out + " already exists; quantize writes a new folder");
        }
        Path parent = out.toAbsolutePath().normalize().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new IllegalArgumentException("the folder that is to hold --out " + out + " does not exist");
        }
        if (ModelDirectory.isEncoder(model)) {
            throw new IllegalArgumentException(model + " is an encoder; quantize takes GPT-2 and GPT-1 models");
        }
        Path tmp = Files.createTempDirectory(parent, "." + out.getFileName() + ".");
        try (ModelDirectory dir = ModelDirectory.open(model, true)) {
            if (Files.getFileStore(tmp).supportsFileAttributeView(PosixFileAttributeView.class)) {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            Checkpoints.saveQuantized(dir.weights(), tmp);
            for (String file : TOKENIZER_FILES) {
                if (Files.isRegularFile(model.resolve(file))) Files.copy(model.resolve(file), tmp.resolve(file));
            }
            long bytes = Files.size(tmp.resolve("model.safetensors"));
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            spec.commandLine().getOut().printf("wrote %s: %d Q8_0 matrices, model.safetensors %.1f MB%n", out,
                    dir.weights().quantized().size(), bytes / 1e6);
            return 0;
        } finally {
            deleteRecursively(tmp);
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the unfinished " + dir + ": " + e.getMessage(), e);
        }
    }
}
