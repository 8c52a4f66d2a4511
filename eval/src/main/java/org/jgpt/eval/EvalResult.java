package org.jgpt.eval;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a task reports: its metrics by name (in the order printed) and one record per example (the inputs as
 * scored, the scores, the prediction), for the JSON output and for comparison with a reference.
 */
public record EvalResult(String task, Map<String, Object> metrics, List<Map<String, Object>> examples) {

    public Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("task", task);
        json.put("metrics", metrics);
        json.put("examples", examples);
        return json;
    }
}
