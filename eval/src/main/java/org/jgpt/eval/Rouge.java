package org.jgpt.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * ROUGE-N and ROUGE-L as Google's rouge-score package computes them without stemming: text lower-cased, every run
 * of characters other than a-z and 0-9 a word break, n-gram overlap (ROUGE-N) or the longest common subsequence
 * (ROUGE-L, over the whole text, not per sentence) between a prediction and its target.
 */
public final class Rouge {
    private Rouge() {}

    /** Precision, recall and their harmonic mean, each in [0, 1]. */
    public record Score(double precision, double recall, double f) {
        static Score of(int overlap, int predicted, int target) {
            double p = predicted == 0 ? 0 : (double) overlap / predicted;
            double r = target == 0 ? 0 : (double) overlap / target;
            return new Score(p, r, p + r == 0 ? 0 : 2 * p * r / (p + r));
        }
    }

    /** rouge-score's tokenizer: lower-case, non-alphanumerics as spaces, split. */
    public static List<String> tokenize(String text) {
        List<String> tokens = new ArrayList<>();
        for (String t : text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", " ").trim().split(" ")) {
            if (!t.isEmpty()) tokens.add(t);
        }
        return tokens;
    }

    public static Score rougeN(String target, String prediction, int n) {
        Map<List<String>, Integer> targetGrams = ngrams(tokenize(target), n);
        Map<List<String>, Integer> predictedGrams = ngrams(tokenize(prediction), n);
        int overlap = 0;
        for (Map.Entry<List<String>, Integer> e : predictedGrams.entrySet()) {
            overlap += Math.min(e.getValue(), targetGrams.getOrDefault(e.getKey(), 0));
        }
        return Score.of(overlap, total(predictedGrams), total(targetGrams));
    }

    public static Score rougeL(String target, String prediction) {
        List<String> t = tokenize(target);
        List<String> p = tokenize(prediction);
        return Score.of(lcs(t, p), p.size(), t.size());
    }

    /** Length of the longest common subsequence, by the usual dynamic programme over two rows. */
    static int lcs(List<String> a, List<String> b) {
        int[] previous = new int[b.size() + 1];
        int[] current = new int[b.size() + 1];
        for (String x : a) {
            for (int j = 1; j <= b.size(); j++) {
                current[j] = x.equals(b.get(j - 1)) ? previous[j - 1] + 1 : Math.max(previous[j], current[j - 1]);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.size()];
    }

    static Map<List<String>, Integer> ngrams(List<String> tokens, int n) {
        Map<List<String>, Integer> counts = new HashMap<>();
        for (int i = 0; i + n <= tokens.size(); i++) counts.merge(tokens.subList(i, i + n), 1, Integer::sum);
        return counts;
    }

    private static int total(Map<?, Integer> counts) {
        int sum = 0;
        for (int c : counts.values()) sum += c;
        return sum;
    }
}
