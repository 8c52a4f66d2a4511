package org.jgpt.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Corpus BLEU as sacreBLEU computes it by default: 13a tokenization (mteval-v13a's), n-grams up to 4 clipped by
 * their largest count in any reference, the reference length closest to each hypothesis (the shorter on ties),
 * and the "exp" smoothing of mteval for n-gram orders with no match.
 */
public final class Bleu {
    private static final int MAX_ORDER = 4;
    private static final Pattern PUNCTUATION = Pattern.compile("([\\{-\\~\\[-\\` -\\&\\(-\\+\\:-\\@\\/])");
    private static final Pattern PERIOD_COMMA_AFTER_NON_DIGIT = Pattern.compile("([^0-9])([\\.,])");
    private static final Pattern PERIOD_COMMA_BEFORE_NON_DIGIT = Pattern.compile("([\\.,])([^0-9])");
    private static final Pattern DASH_AFTER_DIGIT = Pattern.compile("([0-9])(-)");

    private Bleu() {}

    /**
     * @param score       BLEU in [0, 100]
     * @param precisions  the (smoothed) n-gram precisions in percent, n = 1..4
     * @param brevityPenalty 1 when the hypotheses are at least as long as the references
     */
    public record Result(double score, double[] precisions, double brevityPenalty, long hypothesisLength,
                         long referenceLength) {}

    /** mteval-v13a's tokenization, as sacreBLEU's {@code tokenize='13a'}. */
    public static String tokenize13a(String line) {
        line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ");
        if (line.contains("&")) {
            line = line.replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
        }
        line = " " + line + " ";
        line = PUNCTUATION.matcher(line).replaceAll(" $1 ");
        line = PERIOD_COMMA_AFTER_NON_DIGIT.matcher(line).replaceAll("$1 $2 ");
        line = PERIOD_COMMA_BEFORE_NON_DIGIT.matcher(line).replaceAll(" $1 $2");
        line = DASH_AFTER_DIGIT.matcher(line).replaceAll("$1 $2 ");
        return String.join(" ", line.trim().split("\\s+"));
    }

    /**
     * @param hypotheses one per segment
     * @param references reference streams: {@code references.get(r).get(i)} is reference r of segment i
     * @param tokenize   13a tokenization (sacreBLEU's default), or none: split on whitespace only
     */
    public static Result corpus(List<String> hypotheses, List<List<String>> references, boolean tokenize) {
        for (List<String> stream : references) {
            if (stream.size() != hypotheses.size()) {
                throw new IllegalArgumentException(hypotheses.size() + " hypotheses but a reference stream of "
                        + stream.size());
            }
        }
        long[] correct = new long[MAX_ORDER];
        long[] total = new long[MAX_ORDER];
        long hypothesisLength = 0;
        long referenceLength = 0;
        for (int i = 0; i < hypotheses.size(); i++) {
            List<String> hypothesis = words(hypotheses.get(i), tokenize);
            List<List<String>> refs = new ArrayList<>();
            for (List<String> stream : references) refs.add(words(stream.get(i), tokenize));
            hypothesisLength += hypothesis.size();
            referenceLength += closestLength(refs, hypothesis.size());
            for (int n = 1; n <= MAX_ORDER; n++) {
                Map<List<String>, Integer> maxRef = new HashMap<>();
                for (List<String> ref : refs) {
                    Rouge.ngrams(ref, n).forEach((gram, count) -> maxRef.merge(gram, count, Math::max));
                }
                for (Map.Entry<List<String>, Integer> e : Rouge.ngrams(hypothesis, n).entrySet()) {
                    correct[n - 1] += Math.min(e.getValue(), maxRef.getOrDefault(e.getKey(), 0));
                    total[n - 1] += e.getValue();
                }
            }
        }
        return score(correct, total, hypothesisLength, referenceLength);
    }

    private static List<String> words(String text, boolean tokenize) {
        String t = tokenize ? tokenize13a(text) : text.trim();
        return t.isEmpty() ? List.of() : List.of(t.split("\\s+"));
    }

    private static int closestLength(List<List<String>> refs, int hypothesisLength) {
        int closest = -1;
        for (List<String> ref : refs) {
            int diff = Math.abs(ref.size() - hypothesisLength);
            int best = Math.abs(closest - hypothesisLength);
            if (closest < 0 || diff < best || (diff == best && ref.size() < closest)) closest = ref.size();
        }
        return closest;
    }

    private static Result score(long[] correct, long[] total, long hypothesisLength, long referenceLength) {
        double[] precisions = new double[MAX_ORDER];
        double smooth = 1;
        for (int n = 0; n < MAX_ORDER; n++) {
            if (total[n] == 0) break;
            if (correct[n] == 0) {
                smooth *= 2;
                precisions[n] = 100.0 / (smooth * total[n]);
            } else {
                precisions[n] = 100.0 * correct[n] / total[n];
            }
        }
        double bp = 1;
        if (hypothesisLength < referenceLength) {
            bp = hypothesisLength > 0 ? Math.exp(1 - (double) referenceLength / hypothesisLength) : 0;
        }
        double logSum = 0;
        for (double p : precisions) logSum += p > 0 ? Math.log(p) : Double.NEGATIVE_INFINITY;
        double score = logSum == Double.NEGATIVE_INFINITY ? 0 : bp * Math.exp(logSum / MAX_ORDER);
        return new Result(score, precisions, bp, hypothesisLength, referenceLength);
    }
}
