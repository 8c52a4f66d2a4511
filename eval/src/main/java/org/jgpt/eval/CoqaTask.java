package org.jgpt.eval;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jgpt.generate.Generator;
import org.jgpt.io.Json;

/**
 * CoQA: conversational question answering. As in the GPT-2 paper the model sees the story, the conversation so
 * far (with the gold answers) and the new question, then {@code A:}, and answers greedily up to a newline. Scored
 * by CoQA's F1 (see {@link AnswerMetrics#coqa}); the paper reports 55 F1 for GPT-2 1.5B on the dev set.
 */
public final class CoqaTask {
    private CoqaTask() {}

    /** One turn: its prompt and the gold answers (the main one first, then the additional ones). */
    public record Turn(String id, int turn, String prompt, List<String> golds) {}

    /**
     * Reads the official CoQA JSON ({@code {"data": [{"id", "story", "questions": [{"turn_id", "input_text"}],
     * "answers": [{"turn_id", "input_text"}], "additional_answers": {"0": [...], ...}}]}}) into turns, in order.
     */
    @SuppressWarnings("unchecked")
    public static List<Turn> read(Path file, int limit) throws IOException {
        Map<String, Object> root;
        try {
            root = Json.parseObject(Datasets.readText(file));
        } catch (Json.JsonException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
        if (!(root.get("data") instanceof List<?> data)) throw new IllegalArgumentException(file + ": no \"data\" list");
        List<Turn> turns = new ArrayList<>();
        for (int d = 0; d < data.size() && (limit <= 0 || turns.size() < limit); d++) {
            String where = file + ": data[" + d + "]";
            if (!(data.get(d) instanceof Map<?, ?> story)
                    || !(story.get("story") instanceof String text)
                    || !(story.get("questions") instanceof List<?> questions)
                    || !(story.get("answers") instanceof List<?> answers)) {
                throw new IllegalArgumentException(where + ": needs \"story\", \"questions\" and \"answers\"");
            }
            if (questions.size() != answers.size()) {
                throw new IllegalArgumentException(where + ": " + questions.size() + " questions but " + answers.size() + " answers");
            }
            String id = String.valueOf(story.get("id"));
            StringBuilder history = new StringBuilder(text.strip()).append("\n\n");
            for (int t = 0; t < questions.size() && (limit <= 0 || turns.size() < limit); t++) {
                String question = inputText(questions.get(t), where + ".questions[" + t + "]");
                List<String> golds = new ArrayList<>();
                golds.add(inputText(answers.get(t), where + ".answers[" + t + "]"));
                if (story.get("additional_answers") instanceof Map<?, ?> extra) {
                    for (Object more : extra.values()) {
                        if (more instanceof List<?> list && t < list.size()) {
                            golds.add(inputText(list.get(t), where + ".additional_answers"));
                        }
                    }
                }
                turns.add(new Turn(id, t + 1, history + "Q: " + question + "\nA:", golds));
                history.append("Q: ").append(question).append("\nA: ").append(golds.getFirst()).append("\n\n");
            }
        }
        if (turns.isEmpty()) throw new IllegalArgumentException(file + " holds no CoQA questions");
        return turns;
    }

    private static String inputText(Object item, String where) {
        if (item instanceof Map<?, ?> map && map.get("input_text") instanceof String s) return s;
        throw new IllegalArgumentException(where + ": no \"input_text\"");
    }

    public static EvalResult run(LanguageModel lm, List<Turn> turns, int maxTokens, Progress progress) {
        progress.start("coqa", turns.size());
        List<Generator.Completion> completions = lm.generate(turns.stream().map(Turn::prompt).toList(),
                LanguageModel.greedyLine(maxTokens), progress);
        List<Map<String, Object>> examples = new ArrayList<>();
        double f1 = 0, em = 0;
        for (int i = 0; i < turns.size(); i++) {
            Turn turn = turns.get(i);
            String answer = completions.get(i).text().strip();
            double turnF1 = AnswerMetrics.coqa(turn.golds(), answer, false);
            double turnEm = AnswerMetrics.coqa(turn.golds(), answer, true);
            f1 += turnF1;
            em += turnEm;
            Map<String, Object> example = new LinkedHashMap<>();
            example.put("id", turn.id());
            example.put("turn", turn.turn());
            example.put("prompt_ids", completions.get(i).promptTokens());
            example.put("output_ids", completions.get(i).tokens());
            example.put("prediction", answer);
            example.put("f1", turnF1);
            examples.add(example);
        }
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("examples", turns.size());
        metrics.put("f1", 100 * f1 / turns.size());
        metrics.put("exact_match", 100 * em / turns.size());
        return new EvalResult("coqa", metrics, examples);
    }
}
