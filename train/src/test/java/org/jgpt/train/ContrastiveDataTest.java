package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading sentences and pairs: the fields named (or the defaults), every 20th record held out counting records
 * rather than lines, and errors that name the file and line.
 */
class ContrastiveDataTest {
    @TempDir
    Path dir;

    private Path pairsFile(int records) throws IOException {
        List<String> lines = new ArrayList<>();
        for (int i = 1; i <= records; i++) {
            lines.add("{\"en\": \"message " + i + "\", \"fr\": \"le message " + i + "\", \"package\": \"p\"}");
            if (i % 7 == 0) lines.add(""); // blank lines are not records
        }
        return Files.write(dir.resolve("pairs.jsonl"), lines);
    }

    @Test
    void everyTwentiethRecordIsHeldOut() throws IOException {
        ContrastiveData.Split split = ContrastiveData.read(pairsFile(45), List.of("en", "fr"), true);
        assertEquals(List.of(new ContrastiveData.Pair("message 20", "le message 20"),
                new ContrastiveData.Pair("message 40", "le message 40")), split.heldOut());
        assertEquals(43, split.train().size());
        assertEquals(new ContrastiveData.Pair("message 21", "le message 21"), split.train().get(19));
    }

    @Test
    void sentencesComeFromLinesOrFromOneField() throws IOException {
        Path text = Files.writeString(dir.resolve("s.txt"), "first line\n\n  second line\r\nthird\n");
        ContrastiveData.Split split = ContrastiveData.read(text, List.of(), false);
        assertEquals(List.of(new ContrastiveData.Pair("first line", "first line"),
                new ContrastiveData.Pair("  second line", "  second line"), new ContrastiveData.Pair("third", "third")), split.train());
        ContrastiveData.Split french = ContrastiveData.read(pairsFile(3), List.of("fr"), false);
        assertEquals(new ContrastiveData.Pair("le message 2", "le message 2"), french.train().get(1));
    }

    @Test
    void defaultFieldsAreSentenceTransformersNames() throws IOException {
        Path file = Files.writeString(dir.resolve("d.jsonl"), "{\"anchor\": \"a\", \"positive\": \"b\", \"text\": \"t\"}\n");
        assertEquals(new ContrastiveData.Pair("a", "b"), ContrastiveData.read(file, List.of(), true).train().getFirst());
        assertEquals(new ContrastiveData.Pair("t", "t"), ContrastiveData.read(file, List.of(), false).train().getFirst());
    }

    @Test
    void errorsNameTheFileAndLine() throws IOException {
        Path file = Files.writeString(dir.resolve("bad.jsonl"), """
                {"en": "one", "fr": "un"}

                {"en": "two", "fr": 2}
                {"en": "three", "fr": "  "}
                not json
                """);
        String message = assertThrows(IllegalArgumentException.class, () -> ContrastiveData.read(file, List.of("en", "fr"), true)).getMessage();
        assertEquals(file + ":3: field 'fr' must be a string, not 2", message);
        Path empty = Files.writeString(dir.resolve("empty.jsonl"), "{\"en\": \"three\", \"fr\": \"  \"}\n");
        assertEquals(empty + ":1: field 'fr' is empty",
                assertThrows(IllegalArgumentException.class, () -> ContrastiveData.read(empty, List.of("en", "fr"), true)).getMessage());
        Path notJson = Files.writeString(dir.resolve("nj.jsonl"), "\nnot json\n");
        String notJsonMessage = assertThrows(IllegalArgumentException.class, () -> ContrastiveData.read(notJson, List.of("en", "fr"), true)).getMessage();
        assertEquals(notJson + ":2: not a JSON object", notJsonMessage.substring(0, notJsonMessage.indexOf(" object") + 7));
        assertThrows(IllegalArgumentException.class, () -> ContrastiveData.read(Files.writeString(dir.resolve("blank.txt"), "\n\n"), List.of(), false));
        assertThrows(IllegalArgumentException.class, () -> ContrastiveData.read(dir.resolve("absent.jsonl"), List.of(), true));
    }
}
