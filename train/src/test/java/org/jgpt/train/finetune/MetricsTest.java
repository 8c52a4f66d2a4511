package org.jgpt.train.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Metrics against published examples (scikit-learn's and scipy's documentation) and values worked out by hand from
 * the definitions; tolerance 1e-12 (double arithmetic on a few numbers).
 */
class MetricsTest {
    // scikit-learn's matthews_corrcoef example: y_true [+1, +1, +1, -1], y_pred [+1, -1, +1, +1], with -1 as class 0
    private static final int[] BINARY_GOLD = {1, 1, 1, 0};
    private static final int[] BINARY_PREDICTED = {1, 0, 1, 1};
    // scikit-learn's f1_score example
    private static final int[] GOLD = {0, 1, 2, 0, 1, 2};
    private static final int[] PREDICTED = {0, 2, 1, 0, 0, 1};

    @Test
    void binaryMccAndF1MatchScikitLearnsExample() {
        assertEquals(-1.0 / 3, Metrics.mcc(BINARY_GOLD, BINARY_PREDICTED, 2), 1e-12); // documented: -0.33...
        // precision 2/3 (two of three predicted 1s are right), recall 2/3 (two of three gold 1s found)
        assertEquals(2.0 / 3, Metrics.f1(BINARY_GOLD, BINARY_PREDICTED, 2), 1e-12);
        assertEquals(0.5, Metrics.accuracy(BINARY_GOLD, BINARY_PREDICTED), 1e-12);
    }

    @Test
    void macroF1MatchesScikitLearnsExample() {
        assertEquals(0.26666666666666666, Metrics.f1(GOLD, PREDICTED, 3), 1e-12); // f1_score(average='macro')
        assertEquals(2.0 / 6, Metrics.accuracy(GOLD, PREDICTED), 1e-12);
    }

    @Test
    void multiclassMccFollowsGorodkinsFormula() {
        // gold [0,0,1,1,2,2], predicted [0,0,1,2,2,2]: 5 right of 6, gold counts t = (2,2,2), predicted counts
        // p = (2,1,3); (c·s - Σ p·t) / √((s² - Σ p²)(s² - Σ t²)) = (30 - 12) / √((36 - 14)(36 - 12))
        int[] gold = {0, 0, 1, 1, 2, 2};
        int[] predicted = {0, 0, 1, 2, 2, 2};
        assertEquals(18 / Math.sqrt(22 * 24), Metrics.mcc(gold, predicted, 3), 1e-12);
        assertEquals(1.0, Metrics.mcc(gold, gold, 3), 1e-12);
        assertEquals(0.0, Metrics.mcc(gold, new int[] {1, 1, 1, 1, 1, 1}, 3), 1e-12, "a constant prediction scores 0");
    }

    @Test
    void pearsonAndSpearmanMatchScipysExamples() {
        assertEquals(-0.7426106572325057, Metrics.pearson(new double[] {1, 2, 3, 4, 5}, new double[] {10, 9, 2.5, 6, 4}), 1e-12);
        assertEquals(0.8207826816681233, Metrics.spearman(new double[] {1, 2, 3, 4, 5}, new double[] {5, 6, 7, 8, 7}), 1e-12);
    }

    @Test
    void tiesShareTheirAverageRank() {
        assertArrayEquals(new double[] {1, 2.5, 2.5, 4}, Metrics.ranks(new double[] {10, 20, 20, 30}), 0);
        assertArrayEquals(new double[] {3, 1, 3, 3}, Metrics.ranks(new double[] {7, 1, 7, 7}), 0);
    }
}
