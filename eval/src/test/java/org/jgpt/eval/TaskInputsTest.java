package org.jgpt.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How tasks cut and assemble their texts, and how they reject malformed data (by file and line). */
class TaskInputsTest {
    private static final Path FILE = Path.of("data.txt");

    @Test
    void firstSentences() {
        assertEquals("One. Two! Three?", SummarizeTask.firstSentences(" One. Two! Three? Four.", 3));
        assertEquals("No end", SummarizeTask.firstSentences("No end", 3));
        assertEquals("Le chat est noir.", SummarizeTask.firstSentences("Le chat est noir. Le chien", 1));
    }

    @Test
    void promptsFollowThePaper() {
        assertEquals("a = b\nc = d\ne =", TranslateTask.prompt(
                List.of(new TranslateTask.Pair("a", "b"), new TranslateTask.Pair("c ", " d")), "e"));
        assertEquals("Q: q1\nA: a1\n\nQ: q2\nA:", QaTask.prompt(List.of(new QaTask.Question("q1", List.of("a1", "x"))), "q2"));
        assertEquals("story\nTL;DR:", new SummarizeTask.Article(" story ", "h").prompt());
    }

    @Test
    void classifyTemplateSplitsAtTheSlot() {
        ClassifyTask task = new ClassifyTask(List.of("good", "bad"), "The review is {}.");
        assertEquals("Great film.\nThe review is", task.context(" Great film. "));
        assertEquals(" good.", task.continuation("good"));
        assertEquals("The review is bad.", task.filled("bad"));
        assertThrows(IllegalArgumentException.class, () -> new ClassifyTask(List.of("a", "b"), "no slot"));
    }

    @Test
    void cbtQuestionSplitsAtTheBlank() {
        CbtTask.Question q = new CbtTask.Question(List.of("A b .", "C d ."), "The XXXXX ran .", "cat", List.of("cat", "dog"));
        assertEquals("A b . C d . The", q.context());
        assertEquals(" dog ran .", q.continuation("dog"));
        CbtTask.Question first = new CbtTask.Question(List.of("A b ."), "XXXXX ran .", "cat", List.of("cat", "dog"));
        assertEquals("A b .", first.context());
    }

    @Test
    void cbtFormatErrorsNameTheLine() {
        StringBuilder text = new StringBuilder();
        for (int i = 1; i <= 20; i++) text.append(i).append(" line .\n");
        String good = text + "21 The XXXXX ran .\tcat\t\tcat|dog\n";
        assertEquals(1, CbtTask.parse(FILE, good).size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CbtTask.parse(FILE, text + "21 The XXXXX ran .\tcow\t\tcat|dog\n"));
        assertEquals("data.txt:21: the answer 'cow' is not among the candidates", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CbtTask.parse(FILE, "1 a .\n3 b .\n"));
        assertEquals("data.txt:2: expected line number 2, found 3", e.getMessage());
    }

    @Test
    void winogradSchemaIsValidated() {
        Map<String, Object> fields = Map.of("text", "Ann thanked Bea because she helped.", "pronoun", "she",
                "pronoun_loc", 24L, "options", List.of("Ann", "Bea"), "label", 1L);
        WinogradTask.Schema s = WinogradTask.schema(new Datasets.Row(FILE, 3, fields));
        assertEquals("Ann thanked Bea because Bea", s.before("Bea"));
        assertEquals(" helped.", s.after());
        Map<String, Object> wrong = new HashMap<>(fields);
        wrong.put("pronoun_loc", 5L);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WinogradTask.schema(new Datasets.Row(FILE, 3, wrong)));
        assertEquals("data.txt:3: the pronoun 'she' is not at pronoun_loc 5 of the text", e.getMessage());
    }
}
