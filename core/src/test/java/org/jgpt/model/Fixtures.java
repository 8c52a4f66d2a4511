package org.jgpt.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jgpt.io.Json;

/** The PyTorch reference fixtures under data/fixtures/gpt2 (see the README there). */
public final class Fixtures {
    public static final Path DIR = Path.of("..", "data", "fixtures", "gpt2");

    private Fixtures() {}

    /** Every variant's folder. */
    public static List<Path> variants() throws IOException {
        try (Stream<Path> dirs = Files.list(DIR)) {
            return dirs.filter(d -> Files.exists(d.resolve("expected.json"))).sorted().toList();
        }
    }

    /** A variant's expected.json: input sequences, PyTorch's logits for them [s][t][v], and a greedy run. */
    public record Expected(int[][] inputs, float[][][] logits, int[] greedyPrompt, int[] greedyTokens) {
        @SuppressWarnings("unchecked")
        public static Expected read(Path dir) throws IOException {
            Map<String, Object> json = Json.parseObject(Files.readString(dir.resolve("expected.json")));
            List<List<Object>> inputs = (List<List<Object>>) json.get("inputs");
            List<List<List<Object>>> logits = (List<List<List<Object>>>) json.get("logits");
            Map<String, Object> greedy = (Map<String, Object>) json.get("greedy");
            float[][][] rows = new float[logits.size()][][];
            for (int s = 0; s < rows.length; s++) {
                rows[s] = new float[logits.get(s).size()][];
                for (int t = 0; t < rows[s].length; t++) {
                    List<Object> row = logits.get(s).get(t);
                    rows[s][t] = new float[row.size()];
                    for (int v = 0; v < row.size(); v++) rows[s][t][v] = ((Number) row.get(v)).floatValue();
                }
            }
            return new Expected(inputs.stream().map(Json::toIntArray).toArray(int[][]::new), rows,
                    Json.toIntArray(greedy.get("prompt")), Json.toIntArray(greedy.get("tokens")));
        }
    }
}
