package org.jgpt.train.finetune;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;

/** The labels and the task in a fine-tuned model's config.json, as both kinds of model write and read them. */
final class SavedTask {
    /** The key of the task jgpt needs to classify again (its framing), beside Hugging Face's own keys. */
    static final String KEY = "jgpt_task";

    private SavedTask() {}

    /** Hugging Face's label maps, {@code id2label} and {@code label2id} (num_labels follows from them). */
    static void putLabels(Map<String, Object> config, List<String> labels) {
        Map<String, Object> id2label = new LinkedHashMap<>();
        Map<String, Object> label2id = new LinkedHashMap<>();
        for (int i = 0; i < labels.size(); i++) {
            id2label.put(Integer.toString(i), labels.get(i));
            label2id.put(labels.get(i), (long) i);
        }
        config.put("id2label", id2label);
        config.put("label2id", label2id);
    }


    /** The {@code jgpt_task} entry of {@code dir}'s config; an error that says how to make one when it has none. */
    static Map<?, ?> task(Map<String, Object> config, Path dir) {
        if (config.get(KEY) instanceof Map<?, ?> task) return task;
        throw new IllegalArgumentException(dir + " is not a fine-tuned model (config.json has no " + KEY
                + "): make one with jgpt finetune");
    }

    /** The labels of {@code id2label}, in class-index order. */
    static List<String> labels(Map<String, Object> config, Path configFile) {
        if (!(config.get("id2label") instanceof Map<?, ?> id2label)) throw new IllegalArgumentException(configFile + ": no id2label");
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < id2label.size(); i++) {
            if (!(id2label.get(Integer.toString(i)) instanceof String label)) {
                throw new IllegalArgumentException(configFile + ": id2label has no label for " + i);
            }
            labels.add(label);
        }
        return labels;
    }

    static int integer(Map<?, ?> task, String key, Path configFile) {
        if (task.get(key) instanceof Long n) return Math.toIntExact(n);
        throw new IllegalArgumentException(configFile + ": " + KEY + "." + key + " must be an integer");
    }
}
