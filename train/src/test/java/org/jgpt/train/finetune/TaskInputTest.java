package org.jgpt.train.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading task files (JSON Lines, CSV), framing and truncating sequences, and the errors on bad input. */
class TaskInputTest {
    private static final InputTransform FRAME = new InputTransform(100, 101, 102, 10);

    @TempDir
    Path tmp;

    @Test
    void framesEachTaskAsThePaperDraws() {
        int[] a = {1, 2}, b = {3};
        assertArrayEquals(new int[][] {{100, 1, 2, 102}}, FRAME.apply(Task.CLASSIFICATION, List.of(a)).sequences());
        assertArrayEquals(new int[][] {{100, 1, 2, 101, 3, 102}}, FRAME.apply(Task.ENTAILMENT, List.of(a, b)).sequences());
        assertArrayEquals(new int[][] {{100, 1, 2, 101, 3, 102}, {100, 3, 101, 1, 2, 102}},
                FRAME.apply(Task.SIMILARITY, List.of(a, b)).sequences());
        assertArrayEquals(new int[][] {{100, 1, 2, 101, 3, 102}, {100, 1, 2, 101, 4, 5, 102}},
                FRAME.apply(Task.CHOICE, List.of(a, b, new int[] {4, 5})).sequences());
    }

    @Test
    void truncatesTheLongestTextFromItsEndKeepingTheFrame() {
        var s = FRAME.apply(Task.ENTAILMENT, List.of(new int[] {1, 2, 3, 4, 5, 6, 7, 8}, new int[] {9, 10}));
        assertTrue(s.truncated());
        // 10 tokens: s, 5 of the premise, $, 2 of the hypothesis, e
        assertArrayEquals(new int[][] {{100, 1, 2, 3, 4, 5, 101, 9, 10, 102}}, s.sequences());
        var even = FRAME.apply(Task.ENTAILMENT, List.of(new int[] {1, 2, 3, 4, 5, 6}, new int[] {7, 8, 9, 10, 11, 12}));
        assertArrayEquals(new int[][] {{100, 1, 2, 3, 101, 7, 8, 9, 10, 102}}, even.sequences());
        assertFalse(FRAME.apply(Task.CLASSIFICATION, List.of(new int[8])).truncated(), "8 + 2 tokens fit in 10");
        assertTrue(FRAME.apply(Task.CLASSIFICATION, List.of(new int[9])).truncated());
    }

    @Test
    void readsJsonLinesAndCsvWithTheTasksFields() throws IOException {
        Path jsonl = Files.writeString(tmp.resolve("a.jsonl"), """
                {"premise": "It rains.", "hypothesis": "It is wet.", "label": "entailment"}

                {"premise": "A", "hypothesis": "B", "label": 3}
                """);
        List<Example> e = TaskData.read(jsonl, Task.ENTAILMENT, true);
        assertEquals(List.of("It rains.", "It is wet."), e.get(0).texts());
        assertEquals("3", e.get(1).label());
        assertEquals(jsonl + ":3", e.get(1).source());

        Path csv = Files.writeString(tmp.resolve("c.csv"), "label,context,choice1,choice2\n1,\"Say \"\"hi\"\",\nthen\",a,b\r\n0,x,y,z\n");
        List<Example> c = TaskData.read(csv, Task.CHOICE, true);
        assertEquals(List.of("Say \"hi\",\nthen", "a", "b"), c.get(0).texts());
        assertEquals("1", c.get(0).label());
        assertEquals(csv + ":4", c.get(1).source(), "the second record starts on line 4 (a quoted newline before)");
    }

    @Test
    void badFilesGetErrorsNamingFileAndLine() throws IOException {
        Path empty = Files.writeString(tmp.resolve("empty.jsonl"), "\n\n");
        assertEquals(empty + ": no examples",
                assertThrows(IllegalArgumentException.class, () -> TaskData.read(empty, Task.CLASSIFICATION, true)).getMessage());
        Path missing = Files.writeString(tmp.resolve("m.jsonl"), "{\"text\": \"a\", \"label\": \"x\"}\n{\"txt\": \"b\"}\n");
        assertEquals(missing + ":2: missing field 'text'",
                assertThrows(IllegalArgumentException.class, () -> TaskData.read(missing, Task.CLASSIFICATION, true)).getMessage());
        Path unlabelled = Files.writeString(tmp.resolve("u.jsonl"), "{\"text\": \"a\"}\n");
        assertEquals(unlabelled + ":1: no label",
                assertThrows(IllegalArgumentException.class, () -> TaskData.read(unlabelled, Task.CLASSIFICATION, true)).getMessage());
        Path columns = Files.writeString(tmp.resolve("k.csv"), "text,label\n\"a, b\",x,y\n");
        assertEquals(columns + ":2: 3 columns, the header has 2",
                assertThrows(IllegalArgumentException.class, () -> TaskData.read(columns, Task.CLASSIFICATION, true)).getMessage());
        Path header = Files.writeString(tmp.resolve("h.csv"), "sentence,label\na,x\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TaskData.read(header, Task.CLASSIFICATION, true))
                .getMessage().startsWith(header + ":1: no column 'text'"));
    }

    @Test
    void anUnknownLabelIsAnErrorNamingItsLine() throws IOException {
        var spec = new TaskModel.Spec(Task.CLASSIFICATION, List.of("ham", "spam"), 0, FRAME);
        Path file = Files.writeString(tmp.resolve("v.jsonl"), "{\"text\": \"a\", \"label\": \"eggs\"}\n");
        Example example = TaskData.read(file, Task.CLASSIFICATION, true).getFirst();
        assertEquals(file + ":1: unknown label 'eggs' (the labels are ham, spam)",
                assertThrows(IllegalArgumentException.class, () -> spec.encode(example, GPT2Tokenizer.gpt2())).getMessage());
    }

    @Test
    void labelsAreSortedByValueWhenNumeric() {
        List<Example> numbers = List.of(new Example(List.of("a"), "10", "f:1"), new Example(List.of("b"), "9", "f:2"),
                new Example(List.of("c"), "10", "f:3"));
        assertEquals(List.of("9", "10"), FineTuner.labels(Task.SIMILARITY, numbers));
        List<Example> names = List.of(new Example(List.of("a"), "spam", "f:1"), new Example(List.of("b"), "ham", "f:2"));
        assertEquals(List.of("ham", "spam"), FineTuner.labels(Task.CLASSIFICATION, names));
        List<Example> one = List.of(new Example(List.of("a"), "ham", "f:1"));
        assertThrows(IllegalArgumentException.class, () -> FineTuner.labels(Task.CLASSIFICATION, one));
    }
}
