package org.jgpt.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jgpt.generate.Generator;
import org.jgpt.generate.Scorer;

/**
 * Open-domain question answering as in the GPT-2 paper (Natural Questions): a few {@code Q: ... A: ...} pairs as
 * examples, then the question and {@code A:}; greedy decoding up to a newline. Scored by exact match and F1 with
 * SQuAD's normalisation, against any of the gold answers. The confidence of an answer is the log-probability of
 * the generated tokens (the newline or end of text that ended it included); the paper's table of the most
 * confident answers is the exact match over the top {@code confidentFraction} of them (4.1% overall for GPT-2
 * 1.5B, 63.1% on its most confident 1%).
 */
public final class QaTask {
    private QaTask() {}

    public record Question(String question, List<String> answers) {}

    public static String prompt(List<Question> shots, String question) {
        StringBuilder sb = new StringBuilder();
        for (Question shot : shots) {
            sb.append("Q: ").append(shot.question().strip()).append("\nA: ").append(shot.answers().getFirst().strip())
                    .append("\n\n");
        }
        return sb.append("Q: ").append(question.strip()).append("\nA:").toString();
    }

    public static EvalResult run(LanguageModel lm, List<Question> shots, List<Question> questions, int maxTokens,
                                 double confidentFraction, Progress progress) {
        progress.start("qa", questions.size());
        List<Generator.Completion> completions = lm.generate(
                questions.stream().map(q -> prompt(shots, q.question())).toList(), LanguageModel.greedyLine(maxTokens),
                progress);
        List<Scorer.Request> requests = new ArrayList<>();
        for (Generator.Completion c : completions) requests.add(new Scorer.Request(c.promptTokens(), generated(lm, c)));
        List<Scorer.Score> confidences = lm.score(requests);

        List<Map<String, Object>> examples = new ArrayList<>();
        double em = 0, f1 = 0;
        for (int i = 0; i < questions.size(); i++) {
            String answer = completions.get(i).text().strip();
            List<String> golds = questions.get(i).answers();
            double exact = AnswerMetrics.maxOver(golds, answer, true);
            double overlap = AnswerMetrics.maxOver(golds, answer, false);
            em += exact;
            f1 += overlap;
            Map<String, Object> example = new LinkedHashMap<>();
            example.put("prompt_ids", completions.get(i).promptTokens());
            example.put("output_ids", completions.get(i).tokens());
            example.put("prediction", answer);
            example.put("confidence", confidences.get(i).sum());
            example.put("exact_match", exact);
            example.put("f1", overlap);
            examples.add(example);
        }
        List<Map<String, Object>> byConfidence = new ArrayList<>(examples);
        byConfidence.sort(Comparator.comparingDouble(e -> -(double) e.get("confidence")));
        int top = Math.max(1, (int) Math.round(confidentFraction * examples.size()));
        double topEm = 0;
        for (Map<String, Object> e : byConfidence.subList(0, top)) topEm += (double) e.get("exact_match");

        int n = questions.size();
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("examples", n);
        metrics.put("shots", shots.size());
        metrics.put("exact_match", 100 * em / n);
        metrics.put("f1", 100 * f1 / n);
        metrics.put("confident_examples", top);
        metrics.put("exact_match_most_confident", 100 * topEm / top);
        return new EvalResult("qa", metrics, examples);
    }

    /** The tokens the model chose: the generated ones, plus end of text when that is what stopped it. */
    private static int[] generated(LanguageModel lm, Generator.Completion c) {
        if (c.reason() != Generator.FinishReason.END_OF_TEXT) return c.tokens();
        int[] out = Arrays.copyOf(c.tokens(), c.tokens().length + 1);
        out[out.length - 1] = lm.tokenizer().endOfText();
        return out;
    }
}
