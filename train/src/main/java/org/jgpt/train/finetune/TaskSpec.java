package org.jgpt.train.finetune;

import java.util.List;
import org.jgpt.tokenizer.Tokenizer;

/** What a fine-tuned model predicts and how it turns an example into token sequences: saved with the model. */
public interface TaskSpec {
    Task task();

    /** The classes in class-index order (for CHOICE, the answers' indices). */
    List<String> labels();

    /** The longest sequence; longer ones are truncated. */
    int maxLength();

    /** Tokenizes and frames one example; its label must be one of {@link #labels()}. */
    TaskModel.Encoded encode(Example example, Tokenizer tokenizer);

    /** The example's class index, -1 when it is unlabelled; an unknown label is an error naming its file and line. */
    default int classOf(Example example) {
        if (example.label() == null) return -1;
        int index = labels().indexOf(example.label());
        if (index < 0) {
            throw new IllegalArgumentException(example.source() + ": unknown label '" + example.label() + "' (the labels are "
                    + String.join(", ", labels()) + ")");
        }
        return index;
    }
}
