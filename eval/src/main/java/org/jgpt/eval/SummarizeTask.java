package org.jgpt.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jgpt.generate.GenerationOptions;
import org.jgpt.generate.Generator;

/**
 * Summarization as in the GPT-2 paper: the article, then {@code TL;DR:}; 100 tokens by top-k sampling with k = 2;
 * the first 3 sentences of what comes out are the summary. Scored by ROUGE-1, ROUGE-2 and ROUGE-L F1 against the
 * highlights (the paper: 29.34, 8.27 and 26.58 for GPT-2 1.5B on CNN/Daily Mail).
 */
public final class SummarizeTask {
    private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?])\\s+");

    private SummarizeTask() {}

    /** A CNN/Daily Mail record: the article and its reference summary. */
    public record Article(String article, String highlights) {
        public String prompt() {
            return article.strip() + "\nTL;DR:";
        }
    }

    /** k = 2 sampling for {@code maxTokens} (100 in the paper), seeded; long articles keep their end. */
    public static GenerationOptions options(int maxTokens, long seed) {
        return GenerationOptions.defaults().withTopK(2).withMaxNewTokens(maxTokens).withSeed(seed).withTruncate(true);
    }

    /** The first {@code n} sentences (a sentence ends at . ! or ? followed by white space). */
    public static String firstSentences(String text, int n) {
        String[] sentences = SENTENCE_END.split(text.strip(), n + 1);
        return String.join(" ", Arrays.asList(sentences).subList(0, Math.min(n, sentences.length))).strip();
    }

    public static EvalResult run(LanguageModel lm, List<Article> articles, GenerationOptions options, Progress progress) {
        progress.start("summarize", articles.size());
        List<Generator.Completion> completions = lm.generate(articles.stream().map(Article::prompt).toList(), options,
                progress);
        List<Map<String, Object>> examples = new ArrayList<>();
        double r1 = 0, r2 = 0, rl = 0;
        for (int i = 0; i < articles.size(); i++) {
            String summary = firstSentences(completions.get(i).text(), 3);
            String target = articles.get(i).highlights();
            double s1 = Rouge.rougeN(target, summary, 1).f();
            double s2 = Rouge.rougeN(target, summary, 2).f();
            double sl = Rouge.rougeL(target, summary).f();
            r1 += s1;
            r2 += s2;
            rl += sl;
            Map<String, Object> example = new LinkedHashMap<>();
            example.put("prompt_ids", completions.get(i).promptTokens());
            example.put("output_ids", completions.get(i).tokens());
            example.put("summary", summary);
            example.put("rouge1", s1);
            example.put("rouge2", s2);
            example.put("rougeL", sl);
            examples.add(example);
        }
        int n = articles.size();
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("examples", n);
        metrics.put("rouge1", 100 * r1 / n);
        metrics.put("rouge2", 100 * r2 / n);
        metrics.put("rougeL", 100 * rl / n);
        metrics.put("rouge_average", 100 * (r1 + r2 + rl) / (3 * n));
        return new EvalResult("summarize", metrics, examples);
    }
}
