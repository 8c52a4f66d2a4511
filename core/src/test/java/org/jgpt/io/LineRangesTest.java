package org.jgpt.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A file cut into byte ranges at every possible place gives, range after range, exactly BufferedReader's lines. */
class LineRangesTest {
    @TempDir
    Path dir;

    private static List<String> readLines(String text) throws IOException {
        List<String> lines = new ArrayList<>();
        BufferedReader reader = new BufferedReader(new StringReader(text));
        for (String line; (line = reader.readLine()) != null; ) lines.add(line);
        return lines;
    }

    private List<String> inRanges(Path file, long... cuts) throws IOException {
        List<String> lines = new ArrayList<>();
        long start = 0;
        for (int i = 0; i <= cuts.length; i++) {
            long end = i < cuts.length ? cuts[i] : Files.size(file);
            LineRanges.forEachLine(file, start, end, null, (line, number) -> lines.add(line));
            start = end;
        }
        return lines;
    }

    @Test
    void everyCutGivesTheSameLinesAsReadLine() throws IOException {
        for (String text : List.of("one\ntwo\r\nthree\rfour", "a\n\n\r\n\rb\n", "\u00e9t\u00e9 \ud83d\ude00\nz\r\n", "", "\n", "solo")) {
            Path file = Files.writeString(dir.resolve("t.txt"), text, StandardCharsets.UTF_8);
            long size = Files.size(file);
            List<String> expected = readLines(text);
            assertEquals(expected, inRanges(file), text);
            for (long a = 0; a <= size; a++) {
                for (long b = a; b <= size; b++) assertEquals(expected, inRanges(file, a, b), text + " cut at " + a + ", " + b);
            }
        }
    }

    @Test
    void numbersLinesOnlyFromTheStartAndRejectsInvalidUtf8() throws IOException {
        Path file = Files.writeString(dir.resolve("n.txt"), "x\ny\nz\n");
        List<Long> numbers = new ArrayList<>();
        LineRanges.forEachLine(file, 0, 3, null, (line, number) -> numbers.add(number));
        LineRanges.forEachLine(file, 3, 6, null, (line, number) -> numbers.add(number));
        assertEquals(List.of(1L, 2L, 0L), numbers);
        Path bad = Files.write(dir.resolve("bad.txt"), new byte[] {'o', 'k', '\n', (byte) 0xff, '\n'});
        IOException e = assertThrows(IOException.class, () -> LineRanges.forEachLine(bad, 0, 5, null, (line, number) -> {}));
        assertTrue(e.getMessage().contains("not valid UTF-8"), e.getMessage());
    }
}
