package org.jgpt.eval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jgpt.generate.Scorer;

/**
 * The Children's Book Test: a 20-sentence story, then a sentence with one word blanked out ({@code XXXXX}) and 10
 * candidates. As in the GPT-2 paper, each candidate is scored by the log-probability of the sentence with it filled
 * in, from the candidate to the sentence's end, given the story and the sentence's start; the best one is the
 * prediction.
 */
public final class CbtTask {
    private static final String BLANK = "XXXXX";

    private CbtTask() {}

    /** One question: the story's 20 sentences, the sentence with the blank, the answer and the candidates. */
    public record Question(List<String> story, String query, String answer, List<String> candidates) {
        /** The context before the candidate: the story and the query up to the blank, without the trailing space. */
        public String context() {
            String before = query.substring(0, query.indexOf(BLANK)).stripTrailing();
            String story = String.join(" ", this.story);
            return before.isEmpty() ? story : story + " " + before;
        }

        /** The candidate and the rest of the query, as one continuation starting with a space. */
        public String continuation(String candidate) {
            return " " + candidate + query.substring(query.indexOf(BLANK) + BLANK.length());
        }
    }

    /**
     * Parses the CBT release's format: blocks of 21 numbered lines separated by blank lines; lines 1 to 20 are the
     * story, line 21 is {@code 21 query<TAB>answer<TAB><TAB>candidate|candidate|...}.
     */
    public static List<Question> parse(Path file, String text) {
        List<Question> questions = new ArrayList<>();
        List<String> story = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].stripTrailing();
            if (line.isEmpty()) continue;
            String where = file + ":" + (i + 1) + ": ";
            int space = line.indexOf(' ');
            int number;
            try {
                number = Integer.parseInt(space < 0 ? line : line.substring(0, space));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + "a CBT line starts with its number (1 to 21)");
            }
            String body = space < 0 ? "" : line.substring(space + 1);
            if (number != story.size() + 1) {
                throw new IllegalArgumentException(where + "expected line number " + (story.size() + 1) + ", found " + number);
            }
            if (number < 21) {
                story.add(body);
                continue;
            }
            String[] parts = body.split("\t");
            if (parts.length != 4 || !parts[2].isEmpty()) {
                throw new IllegalArgumentException(where + "line 21 must be query<TAB>answer<TAB><TAB>candidates");
            }
            if (!parts[0].contains(BLANK)) throw new IllegalArgumentException(where + "the query has no " + BLANK);
            List<String> candidates = List.of(parts[3].split("\\|"));
            if (!candidates.contains(parts[1])) {
                throw new IllegalArgumentException(where + "the answer '" + parts[1] + "' is not among the candidates");
            }
            questions.add(new Question(List.copyOf(story), parts[0], parts[1], candidates));
            story.clear();
        }
        if (!story.isEmpty()) throw new IllegalArgumentException(file + ": the last question is incomplete");
        if (questions.isEmpty()) throw new IllegalArgumentException(file + " holds no CBT questions");
        return questions;
    }

    public static EvalResult run(LanguageModel lm, List<Question> questions, Progress progress) {
        progress.start("cbt", questions.size());
        List<Map<String, Object>> examples = new ArrayList<>();
        int correct = 0;
        for (Question q : questions) {
            int[] context = lm.encode(q.context());
            List<Scorer.Request> requests = new ArrayList<>();
            for (String candidate : q.candidates()) {
                requests.add(new Scorer.Request(context, lm.encode(q.continuation(candidate))));
            }
            double[] logprobs = lm.score(requests).stream().mapToDouble(Scorer.Score::sum).toArray();
            int best = argmax(logprobs);
            boolean right = q.candidates().get(best).equals(q.answer());
            correct += right ? 1 : 0;
            Map<String, Object> example = new LinkedHashMap<>();
            example.put("answer", q.answer());
            example.put("prediction", q.candidates().get(best));
            example.put("logprobs", logprobs);
            example.put("correct", right);
            examples.add(example);
            progress.step(1);
        }
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("examples", questions.size());
        metrics.put("accuracy", (double) correct / questions.size());
        return new EvalResult("cbt", metrics, examples);
    }

    /** Index of the largest value (the first, on ties). */
    static int argmax(double[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
