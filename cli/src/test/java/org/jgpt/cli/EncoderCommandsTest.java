package org.jgpt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;
import org.jgpt.io.Safetensors;
import org.jgpt.model.EncoderConfig;
import org.jgpt.tokenizer.BpeTrainer;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.train.CorpusPreparer;
import org.jgpt.train.PermutationEncoder;
import org.jgpt.train.TrainableEncoder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fill-mask on a small encoder saved in RoBERTa's layout: the JSON is the fill-mask pipeline's (score, token,
 * token_str, sequence; best first; a list per mask when there are several), and models of the wrong kind are refused
 * both ways with a message that says why; eval --task masked-lm scores the encoder on a prepared corpus's held-out
 * split and refuses a GPT-2; fill-mask, masked-lm and tlm refuse a permutation LM's folder; train --init and bench
 * refuse encoders, RoBERTa's and ELECTRA's, saying what takes them; a masked objective refuses a vocabulary without
 * RoBERTa's special tokens.
 */
class EncoderCommandsTest {
    private static final Path GPT2 = Path.of("..", "data", "fixtures", "gpt2", "full-vocab");

    @TempDir
    static Path dir;
    private static Path encoder;
    private static GPT2Tokenizer tokenizer;

    @BeforeAll
    static void saveEncoder() throws IOException {
        String moby = Files.readString(Path.of("..", "data", "corpora", "moby-dick.txt")).substring(0, 60_000);
        tokenizer = BpeTrainer.train(List.of(moby.getBytes(StandardCharsets.UTF_8)), 320, BpeTrainer.SpecialTokens.ROBERTA, null);
        TrainableEncoder model = new TrainableEncoder(EncoderConfig.roberta(tokenizer.vocabSize(), 32, 16, 1, 2),
                TrainableEncoder.Heads.maskedLmOnly(), 1, 8, 0f);
        model.initialize(3);
        encoder = dir.resolve("encoder");
        model.save(encoder, Map.of());
        tokenizer.save(encoder);
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        for (int i = 0; i < 3; i++) Files.writeString(corpus.resolve("part" + i + ".txt"), moby.substring(20_000 * i, 20_000 * i + 4_000));
        CorpusPreparer.prepare(List.of(corpus), dir.resolve("data"), tokenizer, 0.34, 1_000_000, null);
    }

    @Test
    @SuppressWarnings("unchecked")
    void maskedLmEvaluationScoresTheHeldOutSplit() {
        CliRun run = CliRun.of("eval", "--task", "masked-lm", "--model", encoder.toString(), "--data",
                dir.resolve("data").toString(), "--context", "30", "--json");
        assertEquals(0, run.exitCode(), run.err());
        Map<String, Object> metrics = (Map<String, Object>) ((Map<String, Object>) Json.parse(run.out().strip())).get("metrics");
        double accuracy = ((Number) metrics.get("masked_token_accuracy")).doubleValue();
        assertTrue(accuracy >= 0 && accuracy <= 1, metrics.toString());
        assertTrue(((Number) metrics.get("windows")).intValue() > 0, metrics.toString());
        assertEquals(30, ((Number) metrics.get("window_tokens")).intValue());
        CliRun gpt = CliRun.of("eval", "--task", "masked-lm", "--model", GPT2.toString(), "--data", dir.resolve("data").toString());
        assertNotEquals(0, gpt.exitCode());
        assertTrue(gpt.err().contains("is not an encoder"), gpt.err());
    }

    @Test
    void anEncoderHoldingANaNIsRefusedNamingTheTensor() throws Exception {
        Path broken = Files.createDirectories(dir.resolve("nan-encoder"));
        try (var files = Files.list(encoder)) {
            for (Path f : files.toList()) Files.copy(f, broken.resolve(f.getFileName()));
        }
        Path weights = broken.resolve("model.safetensors");
        String name = "roberta.encoder.layer.0.attention.self.query.weight";
        long begin;
        try (Safetensors st = Safetensors.open(weights)) {
            begin = st.entry(name).begin();
        }
        try (RandomAccessFile raf = new RandomAccessFile(weights.toFile(), "rw")) {
            long headerLength = Long.reverseBytes(raf.readLong());
            raf.seek(8 + headerLength + begin + 5 * Float.BYTES); // element [0, 5]
            raf.writeInt(Integer.reverseBytes(Float.floatToRawIntBits(Float.NaN)));
        }
        CliRun run = CliRun.of("fill-mask", "--model", broken.toString(), "The <mask> whale");
        assertEquals(1, run.exitCode(), run.err());
        assertEquals("", run.out());
        assertTrue(run.err().contains(name + " holds NaN at [0, 5]"), run.err());
    }

    @Test
    void activationsThatOverflowAreAnErrorNamingTheLayer() throws Exception {
        Path huge = Files.createDirectories(dir.resolve("overflowing-encoder"));
        try (var files = Files.list(encoder)) {
            for (Path f : files.toList()) Files.copy(f, huge.resolve(f.getFileName()));
        }
        Path weights = huge.resolve("model.safetensors");
        String name = "roberta.encoder.layer.0.output.dense.weight";
        long begin;
        long count;
        try (Safetensors st = Safetensors.open(weights)) {
            begin = st.entry(name).begin();
            count = st.tensor(name).size();
        }
        try (RandomAccessFile raf = new RandomAccessFile(weights.toFile(), "rw")) {
            long headerLength = Long.reverseBytes(raf.readLong());
            raf.seek(8 + headerLength + begin);
            for (long i = 0; i < count; i++) raf.writeInt(Integer.reverseBytes(Float.floatToRawIntBits(3e38f))); // finite, but sums overflow
        }
        CliRun run = CliRun.of("fill-mask", "--model", huge.toString(), "The <mask> whale");
        assertEquals(1, run.exitCode(), run.err());
        assertEquals("", run.out());
        assertTrue(run.err().contains("went NaN or infinite in layer 0"), run.err());
    }

    @Test
    @SuppressWarnings("unchecked")
    void printsThePipelinesJsonBestFirst() {
        CliRun run = CliRun.of("fill-mask", "--model", encoder.toString(), "--json", "--top-k", "3", "The <mask> whale");
        assertEquals(0, run.exitCode(), run.err());
        List<Object> fillers = (List<Object>) Json.parse(run.out().strip());
        assertEquals(3, fillers.size());
        double previous = 1;
        for (Object o : fillers) {
            Map<String, Object> f = (Map<String, Object>) o;
            assertEquals(List.of("score", "token", "token_str", "sequence"), List.copyOf(f.keySet()));
            double score = ((Number) f.get("score")).doubleValue();
            assertTrue(score > 0 && score <= previous, "scores fall: " + fillers);
            previous = score;
            int id = ((Number) f.get("token")).intValue();
            assertEquals(tokenizer.decode(new int[] {id}), f.get("token_str"));
            String sequence = (String) f.get("sequence");
            assertTrue(sequence.startsWith("The") && sequence.endsWith(" whale") && !sequence.contains("<s>"), sequence);
        }
    }

    @Test
    void twoMasksGiveAListPerMask() {
        CliRun run = CliRun.of("fill-mask", "--model", encoder.toString(), "--json", "<mask> and <mask>");
        assertEquals(0, run.exitCode(), run.err());
        List<?> perMask = (List<?>) Json.parse(run.out().strip());
        assertEquals(2, perMask.size());
        assertEquals(5, ((List<?>) perMask.get(0)).size());
    }

    @Test
    void wrongModelsAndTextsAreRefused() {
        CliRun gpt = CliRun.of("fill-mask", "--model", GPT2.toString(), "The <mask>");
        assertNotEquals(0, gpt.exitCode());
        assertTrue(gpt.err().contains("is not an encoder"), gpt.err());
        CliRun noMask = CliRun.of("fill-mask", "--model", encoder.toString(), "no mask here");
        assertNotEquals(0, noMask.exitCode());
        assertTrue(noMask.err().contains("no <mask>"), noMask.err());
        CliRun generate = CliRun.of("generate", "--model", encoder.toString(), "Hello");
        assertNotEquals(0, generate.exitCode());
        assertTrue(generate.err().contains("is a RoBERTa encoder"), generate.err());
    }

    /** plm's folder holds RoBERTa's tensors and an lm_head, but that head reads the query stream, never <mask>. */
    @Test
    void aPermutationLmFolderIsRefusedByTheCommandsThatFillMasks() throws IOException {
        PermutationEncoder model = new PermutationEncoder(EncoderConfig.roberta(tokenizer.vocabSize(), 32, 16, 1, 2), 1, 8, 0f);
        model.initialize(3);
        Path plm = dir.resolve("plm");
        model.save(plm);
        tokenizer.save(plm);
        List<CliRun> runs = List.of(
                CliRun.of("fill-mask", "--model", plm.toString(), "The <mask> whale"),
                CliRun.of("eval", "--task", "masked-lm", "--model", plm.toString(), "--data", dir.resolve("data").toString()),
                CliRun.of("eval", "--task", "tlm", "--model", plm.toString(), "--data", dir.resolve("pairs.jsonl").toString()));
        for (CliRun run : runs) {
            assertNotEquals(0, run.exitCode(), run.out());
            assertEquals("", run.out());
            assertTrue(run.err().contains(plm + " is a permutation-LM encoder ('jgpt train --objective plm'), not a masked LM")
                    && run.err().contains("finetune takes its RoBERTa body"), run.err());
        }
    }

    /** train --init (clm) and bench --model take a GPT; an encoder's folder is refused naming its kind and what takes it. */
    @Test
    void trainInitAndBenchRefuseEncoderFoldersSayingWhatTakesThem() {
        Path electra = Path.of("..", "data", "fixtures", "electra", "tiny");
        Map<Path, String> kinds = Map.of(encoder, "is a RoBERTa encoder, which ", electra, "is an ELECTRA model, which ");
        Path out = dir.resolve("never-trained");
        for (Map.Entry<Path, String> kind : kinds.entrySet()) {
            String folder = kind.getKey().toString();
            List<CliRun> runs = List.of(
                    CliRun.of("train", "--init", folder, "--data", dir.resolve("data").toString(), "--out", out.toString(), "--steps", "1"),
                    CliRun.of("bench", "decode", "--model", folder),
                    CliRun.of("bench", "prefill", "--model", folder),
                    CliRun.of("bench", "train", "--model", folder, "--steps", "1"));
            for (CliRun run : runs) {
                assertEquals(1, run.exitCode(), run.out());
                assertEquals("", run.out());
                assertTrue(run.err().contains(folder + " " + kind.getValue()) && run.err().contains("this command needs a GPT;")
                        && run.err().contains("finetune"), run.err());
            }
        }
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test
    void aMaskedObjectiveRefusesAVocabularyWithoutMaskAndWritesNothing() throws IOException {
        String moby = Files.readString(Path.of("..", "data", "corpora", "moby-dick.txt")).substring(0, 30_000);
        GPT2Tokenizer plain = BpeTrainer.train(List.of(moby.getBytes(StandardCharsets.UTF_8)), 300,
                BpeTrainer.SpecialTokens.GPT2, null);
        Path data = dir.resolve("gpt2-vocabulary-data");
        CorpusPreparer.prepare(List.of(dir.resolve("corpus")), data, plain, 0.34, 1_000_000, null);
        Path out = dir.resolve("refused-run");
        CliRun run = CliRun.of("train", "--objective", "mlm", "--data", data.toString(), "--out", out.toString(),
                "--steps", "1", "--n-layer", "1", "--n-head", "2", "--n-embd", "16", "--batch", "2", "--seq", "16");
        assertNotEquals(0, run.exitCode());
        assertTrue(run.err().contains("has no <s> token: masked objectives need a RoBERTa-style vocabulary"), run.err());
        assertFalse(Files.exists(out), "nothing written");
    }
}
