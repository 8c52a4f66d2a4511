package org.jgpt.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jgpt.generate.Scorer;

/**
 * Zero-shot classification, two ways.
 *
 * <ul>
 *   <li>Label probability: the text, a newline, then the template with each label filled in (e.g. "The sentiment
 *       of this review is {}."); the label whose filling (from the label to the template's end) is the most
 *       likely wins.</li>
 *   <li>Embedding similarity: the text and each filled-in template are embedded as the mean of the model's final
 *       hidden states over their tokens; the label whose sentence is the closest by cosine similarity wins.</li>
 * </ul>
 *
 * @param template the label's place marked by {@code {}}
 */
public record ClassifyTask(List<String> labels, String template) {
    private static final String SLOT = "{}";

    public ClassifyTask {
        labels = List.copyOf(labels);
        if (labels.size() < 2) throw new IllegalArgumentException("classification needs at least 2 labels: " + labels);
        if (!template.contains(SLOT)) throw new IllegalArgumentException("the template has no {} for the label: " + template);
    }

    public record Example(String text, String label) {}

    /** The context before the label: the text, a newline, the template up to the slot without trailing spaces. */
    public String context(String text) {
        return text.strip() + "\n" + template.substring(0, template.indexOf(SLOT)).stripTrailing();
    }

    /** The label and the rest of the template, after the spaces that preceded the slot. */
    public String continuation(String label) {
        String before = template.substring(0, template.indexOf(SLOT));
        String space = before.substring(before.stripTrailing().length());
        return space + label + template.substring(template.indexOf(SLOT) + SLOT.length());
    }

    public String filled(String label) {
        return template.replace(SLOT, label);
    }

    public EvalResult run(LanguageModel lm, List<Example> data, Progress progress) {
        for (Example e : data) {
            if (!labels.contains(e.label())) {
                throw new IllegalArgumentException("label '" + e.label() + "' is not one of " + labels);
            }
        }
        List<float[]> labelEmbeddings = new ArrayList<>();
        for (String label : labels) labelEmbeddings.add(lm.meanHiddenState(lm.encode(filled(label))));
        progress.start("classify", data.size());
        List<Map<String, Object>> examples = new ArrayList<>();
        int probabilityCorrect = 0, similarityCorrect = 0;
        for (Example e : data) {
            int[] context = lm.encode(context(e.text()));
            List<Scorer.Request> requests = new ArrayList<>();
            for (String label : labels) requests.add(new Scorer.Request(context, lm.encode(continuation(label))));
            double[] logprobs = lm.score(requests).stream().mapToDouble(Scorer.Score::sum).toArray();
            float[] embedding = lm.meanHiddenState(lm.encode(e.text().strip()));
            double[] similarities = new double[labels.size()];
            for (int l = 0; l < labels.size(); l++) similarities[l] = cosine(embedding, labelEmbeddings.get(l));
            String byProbability = labels.get(CbtTask.argmax(logprobs));
            String bySimilarity = labels.get(CbtTask.argmax(similarities));
            probabilityCorrect += byProbability.equals(e.label()) ? 1 : 0;
            similarityCorrect += bySimilarity.equals(e.label()) ? 1 : 0;
            Map<String, Object> example = new LinkedHashMap<>();
            example.put("label", e.label());
            example.put("logprobs", logprobs);
            example.put("similarities", similarities);
            example.put("prediction_probability", byProbability);
            example.put("prediction_similarity", bySimilarity);
            examples.add(example);
            progress.step(1);
        }
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("examples", data.size());
        metrics.put("accuracy_probability", (double) probabilityCorrect / data.size());
        metrics.put("accuracy_similarity", (double) similarityCorrect / data.size());
        return new EvalResult("classify", metrics, examples);
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
