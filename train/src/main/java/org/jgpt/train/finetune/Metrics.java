package org.jgpt.train.finetune;

import java.util.Arrays;

/**
 * Validation metrics over class indices 0..K-1 (as scikit-learn and scipy define them): accuracy, F1 (of class 1
 * when K = 2, otherwise the unweighted mean over classes, "macro"), Matthews correlation (Gorodkin's R_K, the binary
 * MCC when K = 2), and Pearson and Spearman correlation (ties get their average rank).
 */
public final class Metrics {
    private Metrics() {}

    /** Metrics of one evaluation; {@code pearson} and {@code spearman} are NaN where the labels are not numbers. */
    public record Report(int examples, double loss, double accuracy, double f1, double mcc, double pearson, double spearman) {}

    public static double accuracy(int[] gold, int[] predicted) {
        check(gold, predicted);
        int right = 0;
        for (int i = 0; i < gold.length; i++) if (gold[i] == predicted[i]) right++;
        return (double) right / gold.length;
    }

    /** Binary F1 of class 1 for two classes, macro F1 for more; a class never predicted nor present scores 0. */
    public static double f1(int[] gold, int[] predicted, int classes) {
        long[][] m = confusion(gold, predicted, classes);
        if (classes == 2) return f1Of(m, 1);
        double sum = 0;
        for (int k = 0; k < classes; k++) sum += f1Of(m, k);
        return sum / classes;
    }

    private static double f1Of(long[][] m, int k) {
        long tp = m[k][k], goldK = 0, predictedK = 0;
        for (int j = 0; j < m.length; j++) {
            goldK += m[k][j];
            predictedK += m[j][k];
        }
        return goldK + predictedK == 0 ? 0 : 2.0 * tp / (goldK + predictedK);
    }

    /** Matthews correlation for K classes; 0 when either side is constant. */
    public static double mcc(int[] gold, int[] predicted, int classes) {
        long[][] m = confusion(gold, predicted, classes);
        double n = gold.length, correct = 0, sumPT = 0, sumPP = 0, sumTT = 0;
        for (int k = 0; k < classes; k++) {
            correct += m[k][k];
            double t = 0, p = 0;
            for (int j = 0; j < classes; j++) {
                t += m[k][j];
                p += m[j][k];
            }
            sumPT += p * t;
            sumPP += p * p;
            sumTT += t * t;
        }
        double denominator = Math.sqrt((n * n - sumPP) * (n * n - sumTT));
        return denominator == 0 ? 0 : (correct * n - sumPT) / denominator;
    }

    /** Pearson's r; NaN when either side is constant. */
    public static double pearson(double[] x, double[] y) {
        if (x.length != y.length || x.length == 0) throw new IllegalArgumentException("need two equally long, non-empty series");
        double mx = 0, my = 0;
        for (int i = 0; i < x.length; i++) {
            mx += x[i];
            my += y[i];
        }
        mx /= x.length;
        my /= y.length;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.length; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxy / Math.sqrt(sxx * syy);
    }

    /** Spearman's ρ: Pearson's r of the ranks. */
    public static double spearman(double[] x, double[] y) {
        return pearson(ranks(x), ranks(y));
    }

    /** 1-based ranks, ties sharing their average rank. */
    static double[] ranks(double[] x) {
        Integer[] order = new Integer[x.length];
        for (int i = 0; i < x.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(x[a], x[b]));
        double[] rank = new double[x.length];
        for (int i = 0; i < x.length; ) {
            int j = i;
            while (j + 1 < x.length && x[order[j + 1]] == x[order[i]]) j++;
            double average = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) rank[order[k]] = average;
            i = j + 1;
        }
        return rank;
    }

    private static long[][] confusion(int[] gold, int[] predicted, int classes) {
        check(gold, predicted);
        long[][] m = new long[classes][classes];
        for (int i = 0; i < gold.length; i++) m[gold[i]][predicted[i]]++;
        return m;
    }

    private static void check(int[] gold, int[] predicted) {
        if (gold.length != predicted.length || gold.length == 0) {
            throw new IllegalArgumentException("need as many predictions as gold labels, and at least one: "
                    + gold.length + " and " + predicted.length);
        }
    }
}
