package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jgpt.tokenizer.BpeTrainer;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.RobertaTokens;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shards hold each document's tokens (tiktoken's r50k ids, via jtokkit) after an end-of-text (RoBERTa's {@code </s>}
 * in a vocabulary without one), split by document.
 */
class CorpusPreparerTest {
    private static final Encoding R50K = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);

    @TempDir
    Path dir;

    private List<Integer> expectedStream(String... documents) {
        List<Integer> ids = new ArrayList<>();
        for (String doc : documents) {
            ids.add(50256);
            R50K.encodeOrdinary(doc).boxed().forEach(ids::add);
        }
        return ids;
    }

    private static List<Integer> read(TokenDataset data) {
        int[] all = new int[(int) data.size()];
        data.read(0, all, 0, all.length);
        List<Integer> ids = new ArrayList<>();
        for (int id : all) ids.add(id);
        return ids;
    }

    @Test
    void splitsByDocumentInInputOrderWithEndOfTextBeforeEach() throws IOException {
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        Files.writeString(corpus.resolve("1790_a.txt"), "Fellow-Citizens of the Senate and House of Representatives:");
        Files.writeString(corpus.resolve("1791_b.txt"), "In meeting you again I feel much satisfaction.");
        Files.writeString(corpus.resolve("1792_c.txt"), "It is some abatement of the satisfaction <|endoftext|> with which");
        Path jsonl = dir.resolve("more.jsonl");
        Files.writeString(jsonl, "{\"text\": \"Call me Ishmael.\"}\n\n{\"text\": \"Some years ago\\u2014never mind how long.\"}\n");
        Path out = dir.resolve("prepared");

        var summary = CorpusPreparer.prepare(List.of(corpus, jsonl), out, GPT2Tokenizer.gpt2(), 0.4, 7, null);

        assertEquals(3, summary.trainDocuments());
        assertEquals(2, summary.valDocuments());
        try (TokenDataset train = TokenDataset.open(out, "train"); TokenDataset val = TokenDataset.open(out, "val")) {
            assertEquals(expectedStream("Fellow-Citizens of the Senate and House of Representatives:",
                    "In meeting you again I feel much satisfaction.",
                    "It is some abatement of the satisfaction <|endoftext|> with which"), read(train));
            assertEquals(expectedStream("Call me Ishmael.", "Some years ago\u2014never mind how long."), read(val));
            assertEquals(50257, train.vocabSize());
        }
        assertTrue(Files.list(out).filter(p -> p.getFileName().toString().startsWith("train_")).count() > 1,
                "7-token shards: the train split spans several files");
        assertArrayEquals(GPT2Tokenizer.gpt2().encode("round trip"), TokenDataset.tokenizer(out).encode("round trip"));
    }

    @Test
    void aRobertaVocabularySeparatesDocumentsWithEndOfSequence() throws IOException {
        GPT2Tokenizer roberta = BpeTrainer.train(List.of("the cat sat on the mat".getBytes(StandardCharsets.UTF_8)),
                270, BpeTrainer.SpecialTokens.ROBERTA, null);
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        Files.writeString(corpus.resolve("a.txt"), "the cat");
        Files.writeString(corpus.resolve("b.txt"), "sat on the mat");
        Path out = dir.resolve("prepared");

        CorpusPreparer.prepare(List.of(corpus), out, roberta, 0, 100, null);

        int eos = RobertaTokens.of(roberta).eos();
        assertEquals(eos, roberta.documentSeparator());
        List<Integer> expected = new ArrayList<>();
        for (String doc : List.of("the cat", "sat on the mat")) {
            expected.add(eos);
            for (int id : roberta.encode(doc)) expected.add(id);
        }
        try (TokenDataset train = TokenDataset.open(out, "train")) {
            assertEquals(expected, read(train));
        }
        assertTrue(Files.readString(out.resolve("manifest.json")).contains("\"eot_token\": " + eos));
        assertEquals(RobertaTokens.of(roberta), RobertaTokens.of(TokenDataset.tokenizer(out)));
    }

    @Test
    void badInputLeavesNothingBehind() throws IOException {
        Path jsonl = dir.resolve("bad.jsonl");
        Files.writeString(jsonl, "{\"text\": \"fine\"}\n{\"text\": 3}\n");
        Path out = dir.resolve("prepared");
        IOException e = assertThrows(IOException.class,
                () -> CorpusPreparer.prepare(List.of(jsonl), out, GPT2Tokenizer.gpt2(), 0.1, 100, null));
        assertTrue(e.getMessage().contains("bad.jsonl:2"), e.getMessage());
        assertFalse(Files.exists(out));

        Path occupied = Files.createDirectories(dir.resolve("occupied"));
        Files.writeString(occupied.resolve("keep.txt"), "mine");
        Files.writeString(dir.resolve("doc.txt"), "text");
        IOException busy = assertThrows(IOException.class,
                () -> CorpusPreparer.prepare(List.of(dir.resolve("doc.txt")), occupied, GPT2Tokenizer.gpt2(), 0, 100, null));
        assertTrue(busy.getMessage().contains("not an empty directory"), busy.getMessage());
        assertEquals(List.of(occupied.resolve("keep.txt")), Files.list(occupied).toList());
    }
}
