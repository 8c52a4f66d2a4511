package org.jgpt.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.jgpt.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading vocab.json + merges.txt and tokenizer.json, the special token, and the errors for bad files and ids. */
class TokenizerLoadingTest {
    private static final Encoding R50K = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
    private static final String SAMPLE = "It's 2026: naïve café owners don't ship 👍🏽 漢字\r\n\t  at https://x.org/?q=1 <|endoftext|> end";

    @TempDir
    Path dir;

    private static String resource(String name) throws IOException {
        try (InputStream in = GPT2Tokenizer.class.getResourceAsStream("/org/jgpt/tokenizer/gpt2/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private Path writeGpt2Files() throws IOException {
        Files.writeString(dir.resolve("vocab.json"), resource("vocab.json"));
        Files.writeString(dir.resolve("merges.txt"), resource("merges.txt"));
        return dir;
    }

    @Test
    void builtInGpt2HasTheKnownShape() {
        GPT2Tokenizer gpt2 = GPT2Tokenizer.gpt2();
        assertEquals(50257, gpt2.vocabSize());
        assertEquals(50256, gpt2.endOfText());
        assertEquals(OptionalInt.of(50256), gpt2.tokenId("<|endoftext|>"));
        assertEquals(OptionalInt.of(R50K.encodeOrdinary(" the").get(0)), gpt2.tokenId("Ġthe"));
        assertEquals(OptionalInt.empty(), gpt2.tokenId("no such token"));
    }

    @Test
    void specialTextIsOrdinaryUnlessAllowed() {
        GPT2Tokenizer gpt2 = GPT2Tokenizer.gpt2();
        String text = "a<|endoftext|>b <|endoftext|><|endoftext|>";
        assertArrayEquals(R50K.encodeOrdinary(text).toArray(), gpt2.encode(text));
        List<Integer> expected = new ArrayList<>();
        for (String part : new String[] {"a", "#", "b ", "#", "#"}) {
            if (part.equals("#")) expected.add(50256);
            else R50K.encodeOrdinary(part).boxed().forEach(expected::add);
        }
        assertArrayEquals(expected.stream().mapToInt(Integer::intValue).toArray(), gpt2.encodeAllowingSpecial(text));
        assertEquals(text, gpt2.decode(gpt2.encodeAllowingSpecial(text)));
    }

    @Test
    void vocabAndMergesFilesLoadTheSameTokenizer() throws IOException {
        writeGpt2Files();
        GPT2Tokenizer loaded = GPT2Tokenizer.load(dir.resolve("vocab.json"), dir.resolve("merges.txt"));
        assertArrayEquals(R50K.encodeOrdinary(SAMPLE).toArray(), loaded.encode(SAMPLE));
        assertArrayEquals(R50K.encodeOrdinary(SAMPLE).toArray(), GPT2Tokenizer.fromDirectory(dir).encode(SAMPLE));
        assertEquals(50256, loaded.endOfText());
    }

    @Test
    void huggingFaceTokenizerJsonLoads() throws IOException {
        // A tokenizer.json in the Hugging Face format, built from GPT-2's files; merges in both spellings HF uses.
        for (boolean pairs : new boolean[] {false, true}) {
            Map<String, Object> vocab = Json.parseObject(resource("vocab.json"));
            List<Object> merges = new ArrayList<>();
            for (String line : resource("merges.txt").split("\n")) {
                if (line.isEmpty() || line.startsWith("#version")) continue;
                merges.add(pairs ? List.of(line.split(" ")) : line);
            }
            Map<String, Object> model = new LinkedHashMap<>();
            model.put("type", "BPE");
            model.put("vocab", vocab);
            model.put("merges", merges);
            Map<String, Object> root = new LinkedHashMap<>();
            root.put("version", "1.0");
            root.put("added_tokens", List.of(Map.of("id", 50256, "content", "<|endoftext|>", "special", true)));
            root.put("model", model);
            Files.writeString(dir.resolve("tokenizer.json"), Json.write(root));
            GPT2Tokenizer loaded = GPT2Tokenizer.fromDirectory(dir);
            assertArrayEquals(R50K.encodeOrdinary(SAMPLE).toArray(), loaded.encode(SAMPLE));
            assertEquals(50256, loaded.endOfText());
            assertEquals(50257, loaded.vocabSize());
        }
    }

    private void assertFails(String expectedInMessage, Runnable load) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, load::run);
        assertTrue(e.getMessage().contains(expectedInMessage), () -> "message \"" + e.getMessage() + "\" should contain \"" + expectedInMessage + "\"");
    }

    @Test
    void badFilesNameTheFileAndLine() throws IOException {
        Path vocab = dir.resolve("vocab.json");
        Path merges = dir.resolve("merges.txt");
        assertFails(vocab + ": no such file", () -> GPT2Tokenizer.load(vocab, merges));
        assertFails("no tokenizer in " + dir, () -> GPT2Tokenizer.fromDirectory(dir));

        writeGpt2Files();
        Files.writeString(vocab, "{\"a\": 0,\n\"b\": 1,\n\"c\" 2}");
        assertFails(vocab + ": expected ':' at line 3", () -> GPT2Tokenizer.load(vocab, merges));
        Files.writeString(vocab, "{\"a\": 0,\n\"b\": \"one\"}");
        assertFails(vocab + " line 2: token \"b\"", () -> GPT2Tokenizer.load(vocab, merges));

        writeGpt2Files();
        List<String> lines = new ArrayList<>(Files.readAllLines(merges));
        lines.set(4, "Ġ");
        Files.write(merges, lines);
        assertFails(merges + " line 5: expected two tokens", () -> GPT2Tokenizer.load(vocab, merges));
        lines.set(4, "Ġ nosuchtoken");
        Files.write(merges, lines);
        assertFails(merges + " line 5: token \"nosuchtoken\" is not in the vocabulary", () -> GPT2Tokenizer.load(vocab, merges));

        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": [}}");
        assertFails(dir.resolve("tokenizer.json") + ": unexpected character", () -> GPT2Tokenizer.fromDirectory(dir));
    }

    @Test
    void badIdsAreNamed() {
        GPT2Tokenizer gpt2 = GPT2Tokenizer.gpt2();
        assertFails("token id 50257 ", () -> gpt2.decode(new int[] {15496, 50257}));
        assertFails("token id -1 ", () -> gpt2.decodeBytes(new int[] {-1}));
        assertFails("token id 99999 ", () -> gpt2.newStreamingDecoder().push(99999));
    }
}
