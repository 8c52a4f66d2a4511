package org.jgpt.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Checkpoints;
import org.jgpt.io.Json;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.GPT2Weights;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every task against the PyTorch reference (scripts/reference/eval_reference.py) on the full-vocab fixture (a
 * 2-layer GPT-2 with GPT-2's tokenizer, n_positions 64) and the hand-made samples in data/fixtures/eval: the token
 * ids each task builds (the reference encodes with its own BPE), the tokens greedy decoding picks, and every
 * log-probability, within {@value #TOLERANCE_PER_TOKEN} nats per scored token (a sum over n tokens is allowed n times
 * that; float32 forwards in different orders agree to about 1e-8 per token here), cosine similarities within 1e-4.
 */
class ReferenceParityTest {
    static final double TOLERANCE_PER_TOKEN = 1e-5;
    static final Path FIXTURES = Path.of("..", "data", "fixtures");
    static final Path DATA = FIXTURES.resolve("eval");

    private static GPT2Weights weights;
    private static LanguageModel lm;
    private static Map<String, Object> expected;

    @BeforeAll
    static void load() throws IOException {
        Path model = FIXTURES.resolve("gpt2").resolve("full-vocab");
        weights = Checkpoints.load(model);
        lm = new LanguageModel(new GPT2Model(weights), GPT2Tokenizer.fromDirectory(model));
        expected = Json.parseObject(Files.readString(DATA.resolve("expected.json")));
    }

    @AfterAll
    static void close() throws Exception {
        weights.close();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> reference(String task) {
        return (List<Map<String, Object>>) expected.get(task);
    }

    private static double[] doubles(Object list) {
        return ((List<?>) list).stream().mapToDouble(o -> ((Number) o).doubleValue()).toArray();
    }

    private static double number(Object o) {
        return ((Number) o).doubleValue();
    }

    /** Compares two log-probabilities of sums over {@code tokens} tokens. */
    private static void assertLogprob(Object want, Object got, int tokens, String what) {
        assertEquals(number(want), number(got), TOLERANCE_PER_TOKEN * Math.max(1, tokens), what);
    }

    private static void assertLogprobs(Object want, Object got, int tokens, String what) {
        double[] w = doubles(want);
        double[] g = (double[]) got;
        assertEquals(w.length, g.length, what);
        for (int i = 0; i < w.length; i++) assertLogprob(w[i], g[i], tokens, what + "[" + i + "]");
    }

    private static void assertSameExamples(String task, EvalResult result, List<String> intKeys, List<String> exactKeys) {
        List<Map<String, Object>> want = reference(task);
        assertEquals(want.size(), result.examples().size(), task + ": examples");
        for (int i = 0; i < want.size(); i++) {
            for (String key : intKeys) {
                assertArrayEquals(Json.toIntArray(want.get(i).get(key)), (int[]) result.examples().get(i).get(key), task + " " + i + " " + key);
            }
            for (String key : exactKeys) assertEquals(want.get(i).get(key), result.examples().get(i).get(key), task + " " + i + " " + key);
        }
    }

    @Test
    void perplexityWindowsMatchHuggingFacesRecipe() throws IOException {
        String text = Files.readString(DATA.resolve("perplexity.txt"));
        EvalResult result = new PerplexityTask(Detokenizer.NONE, 16, 8, true).run(lm, List.of(text), Progress.NONE);
        Map<String, Object> want = reference("perplexity").getFirst();
        Map<String, Object> got = result.examples().getFirst();
        assertEquals(number(want.get("tokens")), number(got.get("tokens")));
        assertLogprob(want.get("logprob"), got.get("logprob"), (int) number(want.get("tokens")), "perplexity");
        double nll = -number(want.get("logprob"));
        assertEquals(Math.exp(nll / number(want.get("tokens"))), (double) result.metrics().get("token_perplexity"),
                1e-3 * Math.exp(nll / number(want.get("tokens"))));
    }

    @Test
    void wikitextDetokenizedWithStrideEqualToContext() throws IOException {
        List<String> docs = Datasets.jsonl(DATA.resolve("wikitext.jsonl"), 0).stream().map(r -> r.string("text")).toList();
        EvalResult result = new PerplexityTask(Detokenizer.WIKITEXT, 32, 32, true).run(lm, docs, Progress.NONE);
        for (int i = 0; i < docs.size(); i++) {
            Map<String, Object> want = reference("wikitext").get(i);
            Map<String, Object> got = result.examples().get(i);
            assertEquals(number(want.get("tokens")), number(got.get("tokens")), "document " + i);
            assertLogprob(want.get("logprob"), got.get("logprob"), (int) number(want.get("tokens")), "document " + i);
        }
    }

    @Test
    void lambada() throws IOException {
        List<String> texts = Datasets.jsonl(DATA.resolve("lambada.jsonl"), 0).stream().map(r -> r.string("text")).toList();
        EvalResult result = new LambadaTask(Detokenizer.NONE).run(lm, texts, Progress.NONE);
        assertSameExamples("lambada", result, List.of("context_ids", "target_ids"),
                List.of("correct", "correct_stopword_filter", "correct_last_token"));
        for (int i = 0; i < texts.size(); i++) {
            Map<String, Object> want = reference("lambada").get(i);
            Map<String, Object> got = result.examples().get(i);
            assertLogprob(want.get("logprob"), got.get("logprob"), Json.toIntArray(want.get("target_ids")).length, "logprob " + i);
            assertLogprob(want.get("last_token_logprob"), got.get("last_token_logprob"), 1, "last token " + i);
        }
    }

    @Test
    void cbtScoresEachCandidateWithTheRestOfTheSentence() throws IOException {
        Path file = DATA.resolve("cbt.txt");
        EvalResult result = CbtTask.run(lm, CbtTask.parse(file, Files.readString(file)), Progress.NONE);
        assertSameExamples("cbt", result, List.of(), List.of("answer"));
        for (int i = 0; i < result.examples().size(); i++) {
            assertLogprobs(reference("cbt").get(i).get("logprobs"), result.examples().get(i).get("logprobs"), 20, "cbt " + i);
        }
    }

    @Test
    void winogradFullAndPartialScoring() throws IOException {
        List<WinogradTask.Schema> schemas = Datasets.jsonl(DATA.resolve("winograd.jsonl"), 0).stream()
                .map(WinogradTask::schema).toList();
        EvalResult result = WinogradTask.run(lm, schemas, Progress.NONE);
        for (int i = 0; i < schemas.size(); i++) {
            Map<String, Object> want = reference("winograd").get(i);
            Map<String, Object> got = result.examples().get(i);
            assertLogprobs(want.get("full_logprobs"), got.get("full_logprobs"), 20, "full " + i);
            assertLogprobs(want.get("partial_logprobs"), got.get("partial_logprobs"), 20, "partial " + i);
        }
    }

    @Test
    void coqaPromptsAndGreedyAnswers() throws IOException {
        List<CoqaTask.Turn> turns = CoqaTask.read(DATA.resolve("coqa.json"), 0);
        EvalResult result = CoqaTask.run(lm, turns, 8, Progress.NONE);
        assertSameExamples("coqa", result, List.of("prompt_ids", "output_ids"), List.of("prediction"));
    }

    @Test
    void qaPromptsAnswersAndConfidences() throws IOException {
        List<QaTask.Question> rows = Datasets.jsonl(DATA.resolve("qa.jsonl"), 0).stream()
                .map(r -> new QaTask.Question(r.string("question"), r.strings("answer"))).toList();
        EvalResult result = QaTask.run(lm, rows.subList(0, 2), rows.subList(2, rows.size()), 8, 0.5, Progress.NONE);
        assertSameExamples("qa", result, List.of("prompt_ids", "output_ids"), List.of("prediction"));
        for (int i = 0; i < result.examples().size(); i++) {
            Map<String, Object> got = result.examples().get(i);
            assertLogprob(reference("qa").get(i).get("confidence"), got.get("confidence"), 9, "confidence " + i);
        }
    }

    @Test
    void translatePromptsAndGreedyTranslations() throws IOException {
        List<TranslateTask.Pair> pairs = Datasets.jsonl(DATA.resolve("translate.jsonl"), 0).stream()
                .map(r -> new TranslateTask.Pair(r.string("en"), r.string("fr"))).toList();
        EvalResult result = TranslateTask.run(lm, pairs.subList(0, 2), pairs.subList(2, pairs.size()), 10, Progress.NONE);
        assertSameExamples("translate", result, List.of("prompt_ids", "output_ids"), List.of("translation"));
    }

    @Test
    void summarizePromptsAndTopOneSamples() throws IOException {
        List<SummarizeTask.Article> articles = Datasets.jsonl(DATA.resolve("summarize.jsonl"), 0).stream()
                .map(r -> new SummarizeTask.Article(r.string("article"), r.string("highlights"))).toList();
        // Top-k with k = 1 is greedy: the reference can follow it token by token.
        EvalResult result = SummarizeTask.run(lm, articles, SummarizeTask.options(12, 7).withTopK(1), Progress.NONE);
        assertSameExamples("summarize", result, List.of("prompt_ids", "output_ids"), List.of());
    }

    @Test
    void classifyLabelProbabilitiesAndMeanPooledSimilarities() throws IOException {
        List<ClassifyTask.Example> data = Datasets.jsonl(DATA.resolve("classify.jsonl"), 0).stream()
                .map(r -> new ClassifyTask.Example(r.string("text"), r.string("label"))).toList();
        EvalResult result = new ClassifyTask(List.of("positive", "negative"), "The sentiment of this review is {}.")
                .run(lm, data, Progress.NONE);
        for (int i = 0; i < data.size(); i++) {
            Map<String, Object> want = reference("classify").get(i);
            Map<String, Object> got = result.examples().get(i);
            assertLogprobs(want.get("logprobs"), got.get("logprobs"), 3, "logprobs " + i);
            double[] w = doubles(want.get("similarities"));
            double[] g = (double[]) got.get("similarities");
            for (int l = 0; l < w.length; l++) assertEquals(w[l], g[l], 1e-4, "similarity " + i + ", label " + l);
        }
    }
}
