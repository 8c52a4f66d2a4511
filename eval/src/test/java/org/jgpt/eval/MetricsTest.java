package org.jgpt.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The metrics against the published expectations of the reference implementations (cited per test). The expected
 * numbers are copied from those sources, never computed by jgpt.
 */
class MetricsTest {

    // google-research/rouge (rouge_score/rouge_scorer_test.py): scorer.score(target, prediction), no stemming.
    @Test
    void rouge1AsRougeScorerTest() {
        Rouge.Score s = Rouge.rougeN("testing one two", "testing", 1);
        assertEquals(1, s.precision(), 1e-9);
        assertEquals(1.0 / 3, s.recall(), 1e-9);
        assertEquals(1.0 / 2, s.f(), 1e-9);
    }

    @Test
    void rouge2AsRougeScorerTest() {
        Rouge.Score s = Rouge.rougeN("testing one two", "testing one", 2);
        assertEquals(1, s.precision(), 1e-9);
        assertEquals(1.0 / 2, s.recall(), 1e-9);
        assertEquals(2.0 / 3, s.f(), 1e-9);
    }

    @Test
    void rougeLAsRougeScorerTest() {
        for (String prediction : List.of("testing one", "testing two")) { // consecutive and not
            Rouge.Score s = Rouge.rougeL("testing one two", prediction);
            assertEquals(1, s.precision(), 1e-9);
            assertEquals(2.0 / 3, s.recall(), 1e-9);
            assertEquals(4.0 / 5, s.f(), 1e-9);
        }
    }

    @Test
    void rougeOfAnEmptyPredictionIsZero() { // rouge_scorer_test.py testRougeEmpty
        assertEquals(0, Rouge.rougeN("testing one two", "", 1).f());
        assertEquals(0, Rouge.rougeN("testing one two", "", 2).f());
        assertEquals(0, Rouge.rougeL("testing one two", "").f());
    }

    @Test
    void rougeTokenizerLowercasesAndSplitsOnNonAlphanumerics() { // rouge_score/tokenize.py
        assertEquals(List.of("the", "quick", "brown", "dog", "jumps", "on", "the", "log"),
                Rouge.tokenize("The quick brown dog jumps on the log."));
        assertEquals(List.of("it", "s", "10", "a", "m"), Rouge.tokenize("It's 10 a.m."));
    }

    // mjpost/sacrebleu test/test_bleu.py: the README example, corpus_bleu with two reference streams.
    private static final List<String> HYPOTHESES = List.of("The dog bit the man.", "It wasn't surprising.",
            "The man had just bitten him.");
    private static final List<List<String>> REFERENCES = List.of(
            List.of("The dog bit the man.", "It was not unexpected.", "The man bit him first."),
            List.of("The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."));

    @Test
    void bleuAsSacreBleuReadmeExample() {
        assertEquals(48.530827, Bleu.corpus(HYPOTHESES, REFERENCES, true).score(), 1e-6);
    }

    @Test
    void bleuWithoutTokenizationAsSacreBleuTest() {
        assertEquals(49.1919566, Bleu.corpus(HYPOTHESES, REFERENCES, false).score(), 1e-6);
    }

    @Test
    void bleuOfEmptyHypothesesIsZero() { // test_bleu.py: empty hypotheses are not removed
        assertEquals(0.0, Bleu.corpus(List.of("", "", ""), REFERENCES, true).score());
    }

    @Test
    void thirteenATokenization() { // mteval-v13a: symbols split off (not the apostrophe), . and , too unless inside a number
        assertEquals("It wasn't surprising .", Bleu.tokenize13a("It wasn't surprising."));
        assertEquals("3.5 million , 1,000 - fold , \" quoted \"", Bleu.tokenize13a("3.5 million, 1,000-fold, &quot;quoted&quot;"));
    }

    // The SQuAD v1.1/v2.0 evaluation script (normalize_answer, f1_score, exact_match_score). Its only published
    // example found is the trivial one below; the other cases are worked out by hand from the script's definitions
    // (lower-case, drop punctuation and a/an/the, bag-of-words F1), e.g. the common textbook illustration that
    // "The Question Answering System" is scored as {question, answering, system}.
    @Test
    void squadNormalisation() {
        assertEquals("question answering system", AnswerMetrics.normalize("The Question Answering System"));
        assertEquals("1976", AnswerMetrics.normalize("  1976. "));
    }

    @Test
    void squadExactMatchAndF1() {
        // torchmetrics / Hugging Face evaluate squad metric docs: '1976' against ['1976'] → EM 100, F1 100.
        assertEquals(1, AnswerMetrics.maxOver(List.of("1976"), "1976", true));
        assertEquals(1, AnswerMetrics.maxOver(List.of("1976"), "1976", false));
        // Bag-of-words F1: 2 shared of 3 predicted and 2 gold: p = 2/3, r = 1, F1 = 0.8.
        assertEquals(0.8, AnswerMetrics.f1("Denver Broncos team", "the Denver Broncos"), 1e-9);
        assertEquals(0, AnswerMetrics.exactMatch("Denver Broncos team", "the Denver Broncos"));
        assertEquals(1, AnswerMetrics.maxOver(List.of("Carolina Panthers", "Denver Broncos"), "denver broncos!", true));
        // SQuAD v2.0 / CoQA: an empty answer scores only against an empty one.
        assertEquals(1, AnswerMetrics.f1("", "a"));
        assertEquals(0, AnswerMetrics.f1("", "Broncos"));
    }

    @Test
    void coqaAveragesLeaveOneOutMaxima() { // CoQA's evaluate-v1.0.py _compute_turn_score
        // golds A, B, C: leaving out A gives max(f1 vs B, C), etc.; with prediction = B: (1 + 0 + 1) / 3.
        assertEquals(2.0 / 3, AnswerMetrics.coqa(List.of("red", "blue", "red"), "blue", false), 1e-9);
        assertEquals(1, AnswerMetrics.coqa(List.of("blue"), "Blue.", true));
    }
}
