package org.jgpt.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The paper's normalisation and the per-file and per-document overlap, against counts done by hand. */
class OverlapTest {
    @TempDir
    Path tmp;

    @Test
    void normalisationKeepsLowerCaseAlphanumericWords() {
        assertEquals("it s 3 14 not pi hello world caf\u00e9", Ngrams.normalize("It's 3.14 -- NOT pi!\n\tHello,   world... Caf\u00c9"));
    }

    @Test
    void keysDependOnlyOnTheNormalisedWords() {
        String a = "One two three four five six seven eight nine";
        String b = "ONE, two; three -- four\nfive six seven (eight) nine!";
        assertArrayEquals(Overlap.keys(a), Overlap.keys(b));
        assertEquals(2, Overlap.keys(a).length, "9 words hold 2 8-grams");
        assertEquals(0, Overlap.keys("one two three four five six seven").length);
    }

    @Test
    void chunkBoundariesDoNotChangeTheKeys() {
        String text = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu \ud83d\ude00 nu xi";
        List<Long> whole = new ArrayList<>();
        Ngrams a = new Ngrams(whole::add);
        a.accept(text);
        a.endDocument();
        List<Long> pieces = new ArrayList<>();
        Ngrams b = new Ngrams(pieces::add);
        char[] chars = text.toCharArray();
        for (int i = 0; i < chars.length; i += 3) b.accept(chars, i, Math.min(3, chars.length - i));
        b.endDocument();
        assertEquals(whole, pieces);
    }

    @Test
    void checkCountsFoundEightGramsPerFileAndDocument() throws IOException {
        Path train = tmp.resolve("train.txt");
        Files.writeString(train, "the quick brown fox jumps over the lazy dog and runs far away\n");
        BloomFilter filter = Overlap.build(List.of(train), 1e-8, Overlap.Format.DEFAULT, Progress.NONE).filter();

        Path test = tmp.resolve("samples.txt");
        Files.writeString(test, String.join("\n",
                "The QUICK brown fox jumps over the lazy dog.",           // 9 words: 2 8-grams, both seen
                "---",
                "completely different words that never appeared in training text", // 9 words: 2, none seen
                "---",
                "too short",                                              // no 8-gram
                "---",
                "quick brown fox jumps over the lazy dog and sleeps")); // 10 words: 3 8-grams, 2 seen
        Overlap.FileReport report = Overlap.check(filter, List.of(test), Overlap.Format.DEFAULT, Progress.NONE)
                .files().getFirst();
        assertEquals(4, report.documents());
        assertEquals(7, report.ngrams());
        assertEquals(4, report.found());
        assertArrayEquals(new double[] {100, 0, 200.0 / 3}, report.overlaps(), 1e-9);
        assertEquals(100.0 * 4 / 7, report.percent(), 1e-9);
        assertEquals(200.0 / 3, Overlap.quantile(report.overlaps(), 0.5), 1e-9);
    }

    @Test
    void jsonlDocumentsAreRecords() throws IOException {
        Path train = tmp.resolve("train.jsonl");
        Files.writeString(train, "{\"text\": \"a b c d e f g h\"}\n{\"text\": \"i j k l m n o p\"}\n");
        BloomFilter filter = Overlap.build(List.of(train), 1e-8, Overlap.Format.DEFAULT, Progress.NONE).filter();
        assertEquals(2, filter.added(), "8-grams never span two records");
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"text\": \"ok\"}\n{\"body\": \"no text\"}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Overlap.check(filter, List.of(bad), Overlap.Format.DEFAULT, Progress.NONE));
        assertEquals(bad + ":2: no string field \"text\"", e.getMessage());
    }

    @Test
    void byteRangesOfAJsonlFileGiveTheSameFilterAndReportAsTheWholeFile() throws IOException {
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            jsonl.append("{\"text\": \"record ").append(i).append(" says the same eight words as the others do here\"}\n");
        }
        Path file = Files.writeString(tmp.resolve("train.jsonl"), jsonl);
        long size = Files.size(file);
        BloomFilter whole = Overlap.build(List.of(file), 1e-6, Overlap.Format.DEFAULT, Progress.NONE).filter();

        long[] cuts = {0, 100, 977, size / 2, size};
        long count = 0;
        for (int i = 0; i + 1 < cuts.length; i++) count += Overlap.countNgrams(file, cuts[i], cuts[i + 1], Overlap.Format.DEFAULT, Progress.NONE);
        BloomFilter union = BloomFilter.forCapacity(count, 1e-6);
        List<Overlap.FileReport> parts = new ArrayList<>();
        for (int i = 0; i + 1 < cuts.length; i++) {
            BloomFilter part = BloomFilter.forCapacity(count, 1e-6);
            Overlap.addNgrams(part, file, cuts[i], cuts[i + 1], Overlap.Format.DEFAULT, Progress.NONE);
            union.or(part);
            parts.add(Overlap.check(whole, file, cuts[i], cuts[i + 1], Overlap.Format.DEFAULT, Progress.NONE));
        }
        whole.save(tmp.resolve("whole.bloom"));
        union.save(tmp.resolve("union.bloom"));
        assertArrayEquals(Files.readAllBytes(tmp.resolve("whole.bloom")), Files.readAllBytes(tmp.resolve("union.bloom")));

        Overlap.FileReport expected = Overlap.check(whole, List.of(file), Overlap.Format.DEFAULT, Progress.NONE).files().get(0);
        Overlap.FileReport merged = Overlap.merge(file, parts);
        assertEquals(40, merged.documents());
        assertEquals(expected.ngrams(), merged.ngrams());
        assertEquals(expected.found(), merged.found());
        assertArrayEquals(expected.overlaps(), merged.overlaps());
    }
}
