package org.jgpt.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jgpt.generate.Generator;

/**
 * Translation as in the GPT-2 paper: a few example pairs {@code source = target}, one per line, then
 * {@code source =}; greedy decoding up to the newline; its first sentence is the translation. Scored by corpus
 * BLEU with 13a tokenization (sacreBLEU's default). The paper: 5 BLEU English to French, 11.5 French to English
 * on WMT-14, GPT-2 1.5B.
 */
public final class TranslateTask {
    private TranslateTask() {}

    public record Pair(String source, String target) {}

    /** The prompt: each shot as {@code source = target} on its own line, then the source and {@code " ="}. */
    public static String prompt(List<Pair> shots, String source) {
        StringBuilder sb = new StringBuilder();
        for (Pair shot : shots) sb.append(shot.source().strip()).append(" = ").append(shot.target().strip()).append('\n');
        return sb.append(source.strip()).append(" =").toString();
    }

    public static EvalResult run(LanguageModel lm, List<Pair> shots, List<Pair> pairs, int maxTokens, Progress progress) {
        progress.start("translate", pairs.size());
        List<String> prompts = pairs.stream().map(p -> prompt(shots, p.source())).toList();
        List<Generator.Completion> completions = lm.generate(prompts, LanguageModel.greedyLine(maxTokens), progress);
        List<String> hypotheses = new ArrayList<>();
        List<Map<String, Object>> examples = new ArrayList<>();
        for (int i = 0; i < pairs.size(); i++) {
            String translation = SummarizeTask.firstSentences(completions.get(i).text(), 1);
            hypotheses.add(translation);
            Map<String, Object> example = new LinkedHashMap<>();
            example.put("prompt_ids", completions.get(i).promptTokens());
            example.put("output_ids", completions.get(i).tokens());
            example.put("translation", translation);
            examples.add(example);
        }
        Bleu.Result bleu = Bleu.corpus(hypotheses, List.of(pairs.stream().map(Pair::target).toList()), true);
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("examples", pairs.size());
        metrics.put("shots", shots.size());
        metrics.put("bleu", bleu.score());
        metrics.put("brevity_penalty", bleu.brevityPenalty());
        return new EvalResult("translate", metrics, examples);
    }
}
