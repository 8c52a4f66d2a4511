package org.jgpt.eval;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jgpt.generate.Scorer;

/**
 * Perplexity with a sliding window, as in Hugging Face's "Perplexity of fixed-length models": windows of
 * {@code context} tokens start every {@code stride} tokens, and each scores only the tokens the previous window did
 * not, so every token is predicted from at least {@code context - stride} tokens before it. A stride of half the
 * context is the usual trade-off; a stride equal to the context is the fastest and the harshest.
 *
 * <p>Besides the perplexity per token it reports the paper's normalisations of the same total log-likelihood:
 * per word of the original (not detokenized) text, as for WikiText, PTB and 1BW; and bits per byte and per
 * character, as for enwik8 and text8.
 *
 * @param bos put {@code <|endoftext|>} before each document, so that its first token is scored too
 */
public record PerplexityTask(Detokenizer detokenizer, int context, int stride, boolean bos) {
    private static final int WINDOWS_PER_BATCH = 8;

    public PerplexityTask {
        if (context < 2) throw new IllegalArgumentException("the context must be at least 2 tokens: " + context);
        if (stride < 1 || stride > context) {
            throw new IllegalArgumentException("the stride must be in [1, context=" + context + "]: " + stride);
        }
    }

    /** Scores each document separately; the metrics pool all of them. */
    public EvalResult run(LanguageModel lm, List<String> documents, Progress progress) {
        if (context > lm.contextLength()) {
            throw new IllegalArgumentException("context " + context + " exceeds the model's " + lm.contextLength());
        }
        List<int[]> encoded = new ArrayList<>();
        long total = 0;
        for (String original : documents) {
            int[] ids = lm.encode(detokenizer.apply(original));
            encoded.add(bos ? prepend(lm.tokenizer().endOfText(), ids) : ids);
            total += Math.max(0, encoded.getLast().length - 1);
        }
        progress.start("perplexity (tokens)", total);
        List<Map<String, Object>> examples = new ArrayList<>();
        double nll = 0;
        long tokens = 0, words = 0, bytes = 0, chars = 0;
        for (int d = 0; d < documents.size(); d++) {
            String original = documents.get(d);
            int[] ids = encoded.get(d);
            if (ids.length < 2) continue;
            double sum = 0;
            int scored = 0;
            for (List<Scorer.Request> batch : LanguageModel.batches(windows(ids), WINDOWS_PER_BATCH)) {
                for (Scorer.Score s : lm.score(batch)) {
                    sum += s.sum();
                    scored += s.logprobs().length;
                    progress.step(s.logprobs().length);
                }
            }
            long docWords = original.isBlank() ? 0 : original.strip().split("\\s+").length;
            Map<String, Object> example = new LinkedHashMap<>();
            example.put("tokens", scored);
            example.put("words", docWords);
            example.put("logprob", sum);
            examples.add(example);
            nll -= sum;
            tokens += scored;
            words += docWords;
            bytes += original.getBytes(StandardCharsets.UTF_8).length;
            chars += original.codePointCount(0, original.length());
        }
        if (tokens == 0) throw new IllegalArgumentException("no document has 2 tokens to score");
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("documents", examples.size());
        metrics.put("tokens", tokens);
        metrics.put("words", words);
        metrics.put("bytes", bytes);
        metrics.put("nll_per_token", nll / tokens);
        metrics.put("token_perplexity", Math.exp(nll / tokens));
        metrics.put("word_perplexity", words == 0 ? Double.NaN : Math.exp(nll / words));
        metrics.put("bits_per_byte", nll / bytes / Math.log(2));
        metrics.put("bits_per_char", nll / chars / Math.log(2));
        return new EvalResult("perplexity", metrics, examples);
    }

    /**
     * Hugging Face's windows: window k is {@code ids[k * stride, k * stride + context)} and scores its tokens from
     * the previous window's end on, never its own first token (which has no context). With stride = context
     * that first token of each window goes unscored, as in Hugging Face's recipe.
     */
    List<Scorer.Request> windows(int[] ids) {
        List<Scorer.Request> requests = new ArrayList<>();
        int previousEnd = 0;
        for (int begin = 0; previousEnd < ids.length; begin += stride) {
            int end = Math.min(begin + context, ids.length);
            int firstScored = Math.max(previousEnd, begin + 1);
            if (end > firstScored) {
                requests.add(new Scorer.Request(Arrays.copyOfRange(ids, begin, firstScored),
                        Arrays.copyOfRange(ids, firstScored, end)));
            }
            previousEnd = end;
        }
        return requests;
    }

    private static int[] prepend(int first, int[] rest) {
        int[] out = new int[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }
}
