package org.jgpt.train.finetune;

import java.util.List;
import java.util.Locale;

/**
 * The four task shapes of GPT-1's fine-tuning (Radford et al. 2018, §3.3), with the input fields each reads. Every
 * task also has a {@code label} field: a class name, or for {@link #CHOICE} the 0-based index of the right answer.
 */
public enum Task {
    /** {@code [s; text; e]}, one linear head over the classes. */
    CLASSIFICATION(List.of("text")),
    /** {@code [s; premise; $; hypothesis; e]}. */
    ENTAILMENT(List.of("premise", "hypothesis")),
    /** {@code [s; text1; $; text2; e]} and {@code [s; text2; $; text1; e]}: their final states are added. */
    SIMILARITY(List.of("text1", "text2")),
    /** {@code [s; context; $; answer; e]} per answer, a score each, softmax over the answers. */
    CHOICE(List.of("context", "choices"));

    private final List<String> fields;

    Task(List<String> fields) {
        this.fields = fields;
    }

    /** The input fields, in order (for CHOICE, {@code choices} is a list; in CSV, columns choice1, choice2...). */
    public List<String> fields() {
        return fields;
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Task parse(String name) {
        for (Task t : values()) if (t.cliName().equals(name)) return t;
        throw new IllegalArgumentException("unknown task '" + name + "' (classification, entailment, similarity, choice)");
    }
}
