package org.jgpt.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.jgpt.tokenizer.BpeTrainer.SpecialTokens;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BPE training: merge order checked by hand, determinism, pre-token boundaries, files that load back, and RoBERTa's
 * layout of special tokens.
 */
class BpeTrainerTest {
    @TempDir
    Path dir;

    private static List<byte[]> texts(String... texts) {
        return Arrays.stream(texts).map(t -> t.getBytes(StandardCharsets.UTF_8)).toList();
    }

    private List<String> mergesOf(GPT2Tokenizer tokenizer) throws IOException {
        tokenizer.save(dir);
        List<String> lines = Files.readAllLines(dir.resolve("merges.txt"));
        assertEquals("#version: 0.2", lines.getFirst());
        return lines.subList(1, lines.size());
    }

    @Test
    void mergeOrderOfAHandCheckedExample() throws IOException {
        // Pieces: "ab" x1, " ab" x2, " abc" x1. Pair counts: (a,b)=4, (Ġ,a)=3, (b,c)=1, so a+b first; then
        // (Ġ,ab)=3 and (ab,c)=1; then (Ġab,c)=1. Nothing is left after that, so training stops early.
        GPT2Tokenizer tokenizer = BpeTrainer.train(texts("ab ab ab abc"), 1000, null);
        assertEquals(List.of("a b", "Ġ ab", "Ġab c"), mergesOf(tokenizer));
        assertEquals(256 + 3 + 1, tokenizer.vocabSize());
        assertEquals(259, tokenizer.endOfText());
        // New ids in the order learned: ab = 256, Ġab = 257, Ġabc = 258.
        assertArrayEquals(new int[] {258, 257}, tokenizer.encode(" abc ab"));
    }

    @Test
    void tiesGoToTheSmallerLeftIdThenRightId() throws IOException {
        // Every pair occurs once. Ids follow GPT-2's byte order: '!'..'~' are 0..93 (x=87, z=89), the space is 220.
        GPT2Tokenizer tokenizer = BpeTrainer.train(texts("xy zw"), 260, null);
        assertEquals(List.of("x y", "z w", "Ġ zw"), mergesOf(tokenizer));
    }

    @Test
    void stopsAtTheVocabSizeWithEndOfTextLast() {
        GPT2Tokenizer tokenizer = BpeTrainer.train(texts("ab ab ab abc"), 258, null);
        assertEquals(258, tokenizer.vocabSize());
        assertEquals(257, tokenizer.endOfText());
        assertThrows(IllegalArgumentException.class, () -> BpeTrainer.train(texts("ab"), 256, null));
    }

    @Test
    void trainingIsDeterministic() throws IOException {
        List<byte[]> corpus = List.of(Corpora.bytes(Corpora.root().resolve("moby-dick.txt")));
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        BpeTrainer.train(corpus, 1500, null).save(a);
        BpeTrainer.train(corpus, 1500, null).save(b);
        assertArrayEquals(Files.readAllBytes(a.resolve("vocab.json")), Files.readAllBytes(b.resolve("vocab.json")));
        assertArrayEquals(Files.readAllBytes(a.resolve("merges.txt")), Files.readAllBytes(b.resolve("merges.txt")));
    }

    @Test
    void mergesNeverCrossPreTokenBoundaries() {
        byte[] moby = Corpora.bytes(Corpora.root().resolve("moby-dick.txt"));
        GPT2Tokenizer tokenizer = BpeTrainer.train(List.of(moby), 3000, null);
        int checked = 0;
        for (int id = 256; id < tokenizer.vocabSize() - 1; id++) {
            String token = new String(tokenizer.decodeBytes(new int[] {id}), StandardCharsets.ISO_8859_1);
            if (!token.chars().allMatch(c -> c < 0x80)) continue;
            checked++;
            assertTrue(isOnePreToken(token), () -> "token \"" + token + "\" crosses a pre-token boundary");
        }
        assertTrue(checked > 2000, "expected most tokens of an English corpus to be ASCII, checked " + checked);
    }

    /** ASCII only: a contraction, or an optional space then letters, digits or punctuation only, or spaces only. */
    private static boolean isOnePreToken(String token) {
        if (token.matches("'(s|t|re|ve|m|ll|d)")) return true;
        String body = token.startsWith(" ") && token.length() > 1 ? token.substring(1) : token;
        return body.matches("[A-Za-z]+") || body.matches("[0-9]+") || body.matches("[^A-Za-z0-9\\s]+") || token.matches("\\s+");
    }

    @Test
    void robertaModePutsItsSpecialTokensWhereRobertaHasThem() throws IOException {
        byte[] moby = Arrays.copyOf(Corpora.bytes(Corpora.root().resolve("moby-dick.txt")), 200_000);
        GPT2Tokenizer roberta = BpeTrainer.train(List.of(moby), 1000, SpecialTokens.ROBERTA, null);
        assertEquals(1000, roberta.vocabSize(), "the 5 special tokens count in the vocab size");
        assertEquals(new RobertaTokens(0, 1, 2, 3, 999), RobertaTokens.of(roberta));
        assertFalse(roberta.hasEndOfText());
        // The same corpus in GPT-2 mode, 4 ids smaller, learns the same merges: the learned ids are only shifted by 4.
        GPT2Tokenizer gpt2 = BpeTrainer.train(List.of(moby), 996, null);
        for (int id = 0; id < 995; id++) assertArrayEquals(gpt2.tokenBytes(id), roberta.tokenBytes(id + 4), "id " + id);
        assertEquals(mergesOf(gpt2), mergesOf(roberta));

        Path saved = dir.resolve("roberta");
        roberta.save(saved);
        GPT2Tokenizer loaded = GPT2Tokenizer.load(saved.resolve("vocab.json"), saved.resolve("merges.txt"));
        assertEquals(1000, loaded.vocabSize());
        assertEquals(RobertaTokens.of(roberta), RobertaTokens.of(loaded));
        for (int id = 0; id < 1000; id++) assertArrayEquals(roberta.tokenBytes(id), loaded.tokenBytes(id), "id " + id);
        int[] ids = loaded.encode(moby);
        assertArrayEquals(roberta.encode(moby), ids);
        assertArrayEquals(moby, loaded.decodeBytes(ids));
        byte[] noise = new byte[4096];
        new java.util.Random(5).nextBytes(noise);
        assertArrayEquals(noise, loaded.decodeBytes(loaded.encode(noise)));
    }

    @Test
    void robertaSpecialTokensAreOnlyMadeFromTheirTextOnRequest() {
        GPT2Tokenizer roberta = BpeTrainer.train(texts("the cat sat on the mat"), 270, SpecialTokens.ROBERTA, null);
        String text = "<s>a</s></s>b<pad><unk><mask>";
        for (int id : roberta.encode(text)) assertFalse(roberta.isSpecial(id), "encode gave the special id " + id);
        int[] allowed = roberta.encodeAllowingSpecial(text);
        int a = roberta.encode("a")[0];
        int b = roberta.encode("b")[0];
        assertArrayEquals(new int[] {0, a, 2, 2, b, 1, 3, 269}, allowed);
        assertEquals(text, roberta.decode(allowed));
    }

    @Test
    void robertaModeNeedsRoomForItsFiveSpecialTokens() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> BpeTrainer.train(texts("ab"), 260, SpecialTokens.ROBERTA, null));
        assertEquals("vocab size 260 is too small: 256 bytes + <s>, <pad>, </s>, <unk>, <mask> need 261",
                e.getMessage());
        assertEquals(261, BpeTrainer.train(texts("ab"), 261, SpecialTokens.ROBERTA, null).vocabSize());
    }

    @Test
    void writtenFilesLoadBackAndRoundTrip() throws IOException {
        List<Path> sotu = Corpora.files("sotu").subList(0, 20);
        List<byte[]> corpus = sotu.stream().map(Corpora::bytes).toList();
        GPT2Tokenizer trained = BpeTrainer.train(corpus, 2000, null);
        trained.save(dir);
        GPT2Tokenizer loaded = GPT2Tokenizer.load(dir.resolve("vocab.json"), dir.resolve("merges.txt"));
        assertEquals(2000, loaded.vocabSize());
        assertEquals(1999, loaded.endOfText());
        byte[] moby = Corpora.bytes(Corpora.root().resolve("moby-dick.txt"));
        int[] ids = loaded.encode(moby);
        assertArrayEquals(trained.encode(moby), ids);
        assertArrayEquals(moby, loaded.decodeBytes(ids));
        assertTrue(ids.length < moby.length / 2, "2000 learned tokens should compress English to under half its bytes");
        byte[] noise = new byte[4096];
        new java.util.Random(3).nextBytes(noise);
        assertArrayEquals(noise, loaded.decodeBytes(loaded.encode(noise)));
    }
}
