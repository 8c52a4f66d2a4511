package org.jgpt.train.finetune;

import java.util.List;

/**
 * One task example as read from a file: its texts in {@link Task#fields()} order (for CHOICE the context, then each
 * answer), its label (null when unlabelled), and where it came from ({@code file:line}) for error messages.
 */
public record Example(List<String> texts, String label, String source) {
    public Example {
        texts = List.copyOf(texts);
    }
}
