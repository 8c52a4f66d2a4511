package org.jgpt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;
import org.jgpt.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** jgpt info on each kind of model folder, and a checkpoint holding a NaN refused by every command that runs it. */
class InfoAndNonFiniteTest {
    private static final Path FIXTURES = Path.of("..", "data", "fixtures");

    @TempDir
    Path tmp;

    private static Map<String, Object> info(Path dir) {
        CliRun run = CliRun.of("info", "--model", dir.toString(), "--json");
        assertEquals(0, run.exitCode(), run.err());
        return Json.parseObject(run.out());
    }

    @Test
    void infoDescribesAGpt2FromItsConfigAndHeader() {
        Map<String, Object> info = info(FIXTURES.resolve("gpt2/full-vocab"));
        assertEquals("language model", info.get("kind"));
        assertEquals("GPT-2", info.get("family"));
        // 2 layers of 16 wide, vocabulary 50257, 64 positions, tied head: counted from the shapes, as PyTorch would
        long c = 16, inner = 64, layer = 2 * c + c * 3 * c + 3 * c + c * c + c + 2 * c + c * inner + inner + inner * c + c;
        assertEquals(50257 * c + 64 * c + 2 * layer + 2 * c, ((Number) info.get("parameters")).longValue());
        assertEquals("F16", info.get("dtype"));
        assertEquals(64L, info.get("context"));
        assertEquals(50257L, info.get("vocab_size"));
        assertEquals("byte-level BPE", ((Map<?, ?>) info.get("tokenizer")).get("type"));
    }

    @Test
    void infoTellsGpt1EncodersAndClassifiersApart() {
        assertEquals("GPT-1", info(FIXTURES.resolve("gpt1/tiny")).get("family"));
        assertEquals("GPT-1 BPE (lower-cased words)", ((Map<?, ?>) info(FIXTURES.resolve("gpt1/tiny")).get("tokenizer")).get("type"));
        Map<String, Object> encoder = info(FIXTURES.resolve("encoder/tiny"));
        assertEquals(List.of("encoder", "RoBERTa"), List.of(encoder.get("kind"), encoder.get("family")));
        Map<String, Object> electra = info(FIXTURES.resolve("electra/tiny-classifier"));
        assertEquals(List.of("classifier", "ELECTRA"), List.of(electra.get("kind"), electra.get("family")));
        assertEquals(List.of("ham", "spam"), electra.get("labels"));
        assertEquals(List.of("en", "fr"), info(FIXTURES.resolve("tlm/tiny")).get("languages"));
    }

    @Test
    void infoPrintsATableForPeople() {
        CliRun run = CliRun.of("info", "--model", FIXTURES.resolve("gpt2/tiny-sharded").toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("  model        GPT-2 language model (GPT2LMHeadModel)\n"), run.out());
        assertTrue(run.out().contains("  weights      F32, 230.2 KB in 3 shards\n"), run.out());
    }

    @Test
    void infoOnAFolderWithoutConfigIsAClearError() {
        CliRun run = CliRun.of("info", "--model", tmp.toString());
        assertEquals(1, run.exitCode());
        assertEquals("jgpt: " + tmp + " has no config.json\n", run.err());
    }

    @Test
    void aCheckpointHoldingANaNIsRefusedNamingTheTensor() throws Exception {
        Path model = Files.createDirectories(tmp.resolve("nan-model"));
        Path source = FIXTURES.resolve("gpt2/full-vocab");
        for (String file : List.of("config.json", "model.safetensors", "vocab.json", "merges.txt")) {
            Files.copy(source.resolve(file), model.resolve(file));
        }
        poke(model.resolve("model.safetensors"), "h.1.attn.c_proj.weight", 3 * 16 + 2, (short) 0x7E00); // F16 NaN
        Path text = Files.writeString(tmp.resolve("text.txt"), "Hello world");
        for (String[] args : List.of(new String[] {"score", "--model", model.toString(), text.toString()},
                new String[] {"generate", "--model", model.toString(), "--max-tokens", "2", "Hello"})) {
            CliRun run = CliRun.of(args);
            assertEquals(1, run.exitCode(), args[0] + " fails");
            assertEquals("", run.out(), args[0] + " prints no result");
            assertTrue(run.err().startsWith("jgpt: " + model.resolve("model.safetensors") + ": tensor "), run.err());
            assertTrue(run.err().contains("h.1.attn.c_proj.weight holds NaN at [3, 2]"), run.err());
        }
    }

    /** Overwrites element {@code index} of a 16-bit tensor in a safetensors file. */
    private static void poke(Path file, String tensorSuffix, long index, short bits) throws Exception {
        long begin;
        try (Safetensors st = Safetensors.open(file)) {
            String name = st.names().stream().filter(n -> n.endsWith(tensorSuffix)).findFirst().orElseThrow();
            begin = st.entry(name).begin();
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            long headerLength = Long.reverseBytes(raf.readLong());
            raf.seek(8 + headerLength + begin + index * 2);
            raf.writeShort(Short.reverseBytes(bits)); // writeShort is big-endian, safetensors little-endian
        }
    }
}
