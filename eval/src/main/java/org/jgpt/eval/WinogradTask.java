package org.jgpt.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jgpt.generate.Scorer;

/**
 * The Winograd Schema Challenge (WSC273) as Trinh and Le (2018) score it with a language model: the pronoun is
 * replaced by each option. Full scoring compares the log-probabilities of the whole substituted sentences (from
 * {@code <|endoftext|>}); partial scoring compares those of the words after the option, given the sentence up to
 * and including it (the paper's better variant, 70.7% for GPT-2 1.5B).
 */
public final class WinogradTask {
    private WinogradTask() {}

    /**
     * One schema in the fields of Hugging Face's {@code winograd_wsc}: {@code text}, {@code pronoun},
     * {@code pronoun_loc} (its character offset in the text), {@code options}, {@code label} (the right option's
     * index).
     */
    public record Schema(String text, String pronoun, int pronounAt, List<String> options, int label) {
        public String before(String option) {
            return text.substring(0, pronounAt) + option;
        }

        public String after() {
            return text.substring(pronounAt + pronoun.length());
        }
    }

    public static Schema schema(Datasets.Row row) {
        String text = row.string("text");
        String pronoun = row.string("pronoun");
        if (!(row.get("pronoun_loc") instanceof Number at) || !(row.get("label") instanceof Number label)) {
            throw row.error("pronoun_loc and label must be numbers");
        }
        List<String> options = row.strings("options");
        int loc = at.intValue();
        if (loc < 0 || loc + pronoun.length() > text.length() || !text.startsWith(pronoun, loc)) {
            throw row.error("the pronoun '" + pronoun + "' is not at pronoun_loc " + loc + " of the text");
        }
        if (label.intValue() < 0 || label.intValue() >= options.size()) {
            throw row.error("label " + label + " is not an index into the " + options.size() + " options");
        }
        return new Schema(text, pronoun, loc, options, label.intValue());
    }

    public static EvalResult run(LanguageModel lm, List<Schema> schemas, Progress progress) {
        progress.start("winograd", schemas.size());
        int eot = lm.tokenizer().endOfText();
        List<Map<String, Object>> examples = new ArrayList<>();
        int fullCorrect = 0, partialCorrect = 0;
        for (Schema s : schemas) {
            if (s.after().isEmpty()) throw new IllegalArgumentException("the pronoun ends the text: " + s.text());
            List<Scorer.Request> requests = new ArrayList<>();
            for (String option : s.options()) {
                requests.add(new Scorer.Request(new int[] {eot}, lm.encode(s.before(option) + s.after())));
                requests.add(new Scorer.Request(lm.encode(s.before(option)), lm.encode(s.after())));
            }
            List<Scorer.Score> scores = lm.score(requests);
            double[] full = new double[s.options().size()];
            double[] partial = new double[s.options().size()];
            for (int o = 0; o < full.length; o++) {
                full[o] = scores.get(2 * o).sum();
                partial[o] = scores.get(2 * o + 1).sum();
            }
            boolean fullRight = CbtTask.argmax(full) == s.label();
            boolean partialRight = CbtTask.argmax(partial) == s.label();
            fullCorrect += fullRight ? 1 : 0;
            partialCorrect += partialRight ? 1 : 0;
            Map<String, Object> example = new LinkedHashMap<>();
            example.put("full_logprobs", full);
            example.put("partial_logprobs", partial);
            example.put("correct_full", fullRight);
            example.put("correct_partial", partialRight);
            examples.add(example);
            progress.step(1);
        }
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("examples", schemas.size());
        metrics.put("accuracy_full", (double) fullCorrect / schemas.size());
        metrics.put("accuracy_partial", (double) partialCorrect / schemas.size());
        return new EvalResult("winograd", metrics, examples);
    }
}
