package org.jgpt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jgpt.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jgpt quantize on the demo model (models/demo, 256 wide): the folder it writes scores a text exactly as
 * {@code --dtype q8_0} does on the F32 folder, and close to F32; an existing --out, a model whose width is not a
 * multiple of 32 (the 16-wide fixture) and an unknown --dtype are refused, leaving nothing behind.
 */
class QuantizeCommandTest {
    private static final Path DEMO = Path.of("..", "models", "demo");
    private static final Path NARROW = Path.of("..", "data", "fixtures", "gpt2", "full-vocab");

    @TempDir
    Path tmp;

    @Test
    void quantizedFolderScoresAsQuantizingAtLoad() throws IOException {
        Path out = tmp.resolve("demo-q8");
        CliRun run = CliRun.of("quantize", "--model", DEMO.toString(), "--out", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("25 Q8_0 matrices"), run.out()); // 6 layers of 4, and the tied embedding
        for (String file : List.of("config.json", "model.safetensors", "vocab.json", "merges.txt")) {
            assertTrue(Files.isRegularFile(out.resolve(file)), file);
        }
        assertTrue(Files.size(out.resolve("model.safetensors")) < Files.size(DEMO.resolve("model.safetensors")) / 3);
        assertEquals(List.of(out), siblings(), "no temporary folder left");

        Path text = tmp.resolve("text.txt");
        Files.writeString(text, "We have faced hard times before, and together we have made this nation stronger.");
        Map<String, Object> saved = score("--model", out.toString(), text.toString());
        Map<String, Object> atLoad = score("--model", DEMO.toString(), "--dtype", "q8_0", text.toString());
        Map<String, Object> f32 = score("--model", DEMO.toString(), text.toString());
        assertEquals(atLoad, saved);
        double q8Nll = ((Number) saved.get("nll")).doubleValue(), f32Nll = ((Number) f32.get("nll")).doubleValue();
        assertEquals(f32Nll, q8Nll, 0.01, "mean log-probability, Q8_0 against F32");
        assertNotEquals(f32Nll, q8Nll, "Q8_0 changes the weights a little");

        CliRun again = CliRun.of("quantize", "--model", DEMO.toString(), "--out", out.toString());
        assertNotEquals(0, again.exitCode());
        assertTrue(again.err().contains("already exists"), again.err());
    }

    @Test
    void refusesWidthsThatAreNotWholeBlocksAndUnknownDtypes() throws IOException {
        CliRun run = CliRun.of("quantize", "--model", NARROW.toString(), "--out", tmp.resolve("narrow").toString());
        assertNotEquals(0, run.exitCode());
        assertTrue(run.err().contains("is not a multiple of the block size 32"), run.err());
        assertEquals(List.of(), siblings(), "nothing written");

        CliRun dtype = CliRun.of("generate", "--model", DEMO.toString(), "--dtype", "q4_0", "Hello");
        assertNotEquals(0, dtype.exitCode());
        assertTrue(dtype.err().contains("--dtype takes q8_0"), dtype.err());
    }

    private Map<String, Object> score(String... args) {
        CliRun run = CliRun.of(Stream.concat(Stream.of("score"), Stream.of(args)).toArray(String[]::new));
        assertEquals(0, run.exitCode(), run.err());
        return Json.parseObject(run.out().strip());
    }

    private List<Path> siblings() throws IOException {
        try (Stream<Path> files = Files.list(tmp)) {
            return files.filter(p -> !p.getFileName().toString().endsWith(".txt")).toList();
        }
    }
}
