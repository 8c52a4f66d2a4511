package org.jgpt.train;

import java.util.List;

/**
 * Retrieval with a sentence encoder, e.g. of a message's translation: over n pairs, each anchor is a query and the n
 * positives are the candidates. A query's rank is 1 + the number of candidates more cosine-similar to it than its
 * own positive (ties go to the positive); top-k accuracy is the share ranked k or better, MRR the mean of 1 / rank.
 */
public final class RetrievalEvaluation {
    /** The figures over {@code ranks.length} queries, and each query's rank. */
    public record Result(double top1, double top10, double meanReciprocalRank, int[] ranks) {}

    private RetrievalEvaluation() {}

    /** The anchors of {@code pairs} retrieving their positives among all the pairs' positives. */
    public static Result run(SentenceEncoder encoder, List<ContrastiveData.Pair> pairs) {
        if (pairs.isEmpty()) throw new IllegalArgumentException("retrieval needs at least one pair");
        List<SentenceEncoder.Embedding> queries = encoder.embed(pairs.stream().map(ContrastiveData.Pair::anchor).toList());
        List<SentenceEncoder.Embedding> candidates = encoder.embed(pairs.stream().map(ContrastiveData.Pair::positive).toList());
        int[] ranks = ranks(units(queries), units(candidates));
        double top1 = 0, top10 = 0, reciprocal = 0;
        for (int rank : ranks) {
            if (rank == 1) top1++;
            if (rank <= 10) top10++;
            reciprocal += 1.0 / rank;
        }
        return new Result(top1 / ranks.length, top10 / ranks.length, reciprocal / ranks.length, ranks);
    }

    /** The rank of candidate i among all candidates for query i, by dot product (cosine for unit vectors). */
    static int[] ranks(double[][] queries, double[][] candidates) {
        int[] ranks = new int[queries.length];
        for (int q = 0; q < queries.length; q++) {
            double own = dot(queries[q], candidates[q]);
            int better = 0;
            for (double[] candidate : candidates) if (dot(queries[q], candidate) > own) better++;
            ranks[q] = better + 1;
        }
        return ranks;
    }

    private static double[][] units(List<SentenceEncoder.Embedding> embeddings) {
        double[][] units = new double[embeddings.size()][];
        for (int i = 0; i < units.length; i++) {
            float[] v = embeddings.get(i).vector();
            double norm = 0;
            for (float x : v) norm += (double) x * x;
            norm = Math.max(Math.sqrt(norm), 1e-12);
            units[i] = new double[v.length];
            for (int d = 0; d < v.length; d++) units[i][d] = v[d] / norm;
        }
        return units;
    }

    private static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) sum += a[i] * b[i];
        return sum;
    }
}
