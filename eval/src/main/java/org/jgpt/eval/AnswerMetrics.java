package org.jgpt.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Exact match and token F1 of short answers, as the official SQuAD (v2.0) and CoQA evaluation scripts compute
 * them: lower-case, ASCII punctuation removed, the articles a/an/the removed, whitespace collapsed; F1 over the
 * bags of words; an empty answer scores 1 only against an empty answer.
 */
public final class AnswerMetrics {
    private static final Pattern ARTICLES = Pattern.compile("\\b(a|an|the)\\b", Pattern.UNICODE_CHARACTER_CLASS);
    private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    private AnswerMetrics() {}

    public static String normalize(String s) {
        StringBuilder kept = new StringBuilder(s.length());
        for (char c : s.toLowerCase(Locale.ROOT).toCharArray()) {
            if (PUNCTUATION.indexOf(c) < 0) kept.append(c);
        }
        String noArticles = ARTICLES.matcher(kept).replaceAll(" ");
        return String.join(" ", tokens(noArticles));
    }

    private static List<String> tokens(String s) {
        String t = s.strip();
        return t.isEmpty() ? List.of() : Arrays.asList(t.split("\\s+"));
    }

    public static double exactMatch(String prediction, String gold) {
        return normalize(prediction).equals(normalize(gold)) ? 1 : 0;
    }

    public static double f1(String prediction, String gold) {
        List<String> p = tokens(normalize(prediction));
        List<String> g = tokens(normalize(gold));
        if (p.isEmpty() || g.isEmpty()) return p.equals(g) ? 1 : 0;
        Map<String, Integer> goldCounts = new HashMap<>();
        for (String t : g) goldCounts.merge(t, 1, Integer::sum);
        int same = 0;
        for (String t : p) {
            Integer left = goldCounts.get(t);
            if (left != null && left > 0) {
                goldCounts.put(t, left - 1);
                same++;
            }
        }
        if (same == 0) return 0;
        double precision = (double) same / p.size();
        double recall = (double) same / g.size();
        return 2 * precision * recall / (precision + recall);
    }

    /** SQuAD: the best score over the gold answers. */
    public static double maxOver(List<String> golds, String prediction, boolean exact) {
        double best = 0;
        for (String gold : golds) best = Math.max(best, exact ? exactMatch(prediction, gold) : f1(prediction, gold));
        return best;
    }

    /**
     * CoQA's turn score: with several gold answers, the mean over each left out of the best score against the
     * others (so that human and model are scored alike); with one, the score against it.
     */
    public static double coqa(List<String> golds, String prediction, boolean exact) {
        if (golds.size() == 1) return maxOver(golds, prediction, exact);
        double sum = 0;
        for (int i = 0; i < golds.size(); i++) {
            List<String> others = new ArrayList<>(golds);
            others.remove(i);
            sum += maxOver(others, prediction, exact);
        }
        return sum / golds.size();
    }
}
