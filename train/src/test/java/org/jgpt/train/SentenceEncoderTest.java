package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jgpt.model.EncoderConfig;
import org.jgpt.tokenizer.BpeTrainer;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.RobertaTokens;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sentence embeddings of a saved encoder: each text's vector equals the pooled output of that text run alone at its
 * own length, whatever the other texts of the call (batching by length, padding, order); over-long texts are cut;
 * a folder without pooling is refused unless a pooling is given. Retrieval ranks count the candidates strictly
 * closer than the query's own.
 */
class SentenceEncoderTest {
    @TempDir
    static Path dir;
    private static GPT2Tokenizer tokenizer;
    private static TrainableEncoder saved;
    private static Path meanFolder;
    private static Path plainFolder;

    @BeforeAll
    static void saveEncoders() throws IOException {
        String moby = Files.readString(RepoFiles.find("data/corpora/moby-dick.txt")).substring(0, 40_000);
        tokenizer = BpeTrainer.train(List.of(moby.getBytes(StandardCharsets.UTF_8)), 300, BpeTrainer.SpecialTokens.ROBERTA, null);
        saved = new TrainableEncoder(EncoderConfig.roberta(tokenizer.vocabSize(), 40, 16, 2, 2), TrainableEncoder.Heads.none(), 1, 1, 0f);
        saved.initialize(5);
        meanFolder = dir.resolve("mean");
        saved.save(meanFolder, Map.of(Pooling.CONFIG_KEY, "mean"));
        tokenizer.save(meanFolder);
        plainFolder = dir.resolve("plain");
        saved.save(plainFolder, Map.of());
        tokenizer.save(plainFolder);
    }

    /** The text alone, at exactly its framed length. */
    private static float[] alone(String text, Pooling pooling) {
        int[] ids = SentenceEncoder.frame(RobertaTokens.of(tokenizer), tokenizer.encode(text), 40);
        TrainableEncoder one = saved.reshaped(1, ids.length, 0f);
        float[] pooled = new float[16];
        pooling.pool(one.encode(ids, new int[] {ids.length}, false, 0), new int[] {ids.length}, 1, ids.length, 16, pooled);
        return pooled;
    }

    @Test
    void eachTextsVectorIsItsOwnWhateverTheBatch() {
        List<String> texts = new ArrayList<>(List.of("Call me Ishmael.", "Whale", "", "Some years ago, never mind how long"
                + " precisely, having little or no money in my purse, and nothing particular to interest me on shore"));
        for (int i = 0; i < 30; i++) texts.add("a line of " + "more ".repeat(i % 9) + "words " + i);
        for (Pooling pooling : Pooling.values()) {
            SentenceEncoder encoder = SentenceEncoder.open(meanFolder, pooling);
            List<SentenceEncoder.Embedding> embeddings = encoder.embed(texts);
            assertEquals(texts.size(), embeddings.size());
            for (int i = 0; i < texts.size(); i++) {
                float[] expected = alone(texts.get(i), pooling);
                float[] actual = embeddings.get(i).vector();
                for (int d = 0; d < 16; d++) assertEquals(expected[d], actual[d], 1e-5, pooling + " text " + i + " [" + d + "]");
            }
            assertEquals(2, embeddings.get(2).tokens());
            assertEquals(40, embeddings.get(3).tokens(), "cut to the encoder's 40 positions");
        }
    }

    @Test
    void meanPoolingIsTheMeanOverTheTokens() {
        int[] ids = RobertaTokens.of(tokenizer).frame(tokenizer.encode("Call me Ishmael."));
        float[] hidden = saved.reshaped(1, ids.length, 0f).encode(ids, new int[] {ids.length}, false, 0);
        float[] mean = SentenceEncoder.open(meanFolder).embed(List.of("Call me Ishmael.")).getFirst().vector();
        for (int d = 0; d < 16; d++) {
            double sum = 0;
            for (int t = 0; t < ids.length; t++) sum += hidden[t * 16 + d];
            assertEquals(sum / ids.length, mean[d], 1e-5);
        }
    }

    @Test
    void aFolderWithoutPoolingIsRefusedUnlessOneIsGiven() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SentenceEncoder.open(plainFolder));
        assertTrue(e.getMessage().contains("names no pooling") && e.getMessage().contains("--objective simcse"), e.getMessage());
        assertArrayEquals(SentenceEncoder.open(meanFolder).embed(List.of("Whale")).getFirst().vector(),
                SentenceEncoder.open(plainFolder, Pooling.MEAN).embed(List.of("Whale")).getFirst().vector());
    }

    @Test
    void ranksCountTheCandidatesCloserThanTheQuerysOwn() {
        double[][] queries = {{1, 0}, {0, 1}, {0.6, 0.8}};
        double[][] candidates = {{0.8, 0.6}, {1, 0}, {0.6, 0.8}};
        // query 0: own 0.8, candidate 1 scores 1 → rank 2; query 1: own 0, others 0.6, 0.8 → rank 3; query 2: own 1 → 1
        assertArrayEquals(new int[] {2, 3, 1}, RetrievalEvaluation.ranks(queries, candidates));
        double[][] tied = {{1, 0}, {1, 0}};
        assertArrayEquals(new int[] {1, 1}, RetrievalEvaluation.ranks(tied, tied), "ties go to the query's own");
    }

    @Test
    void textsRetrieveThemselves() {
        List<ContrastiveData.Pair> same = new ArrayList<>();
        for (int i = 0; i < 12; i++) same.add(new ContrastiveData.Pair("line number " + i + " of the file", "line number " + i + " of the file"));
        RetrievalEvaluation.Result r = RetrievalEvaluation.run(SentenceEncoder.open(meanFolder), same);
        assertEquals(1.0, r.top1());
        assertEquals(1.0, r.meanReciprocalRank());
        assertEquals(12, r.ranks().length);
    }
}
