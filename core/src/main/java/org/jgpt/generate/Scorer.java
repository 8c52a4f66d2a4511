package org.jgpt.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.KVCache;
import org.jgpt.tokenizer.Tokenizer;

/**
 * Log-probabilities of continuations given contexts: the primitive of every zero-shot evaluation. Requests are
 * batched through the model's ragged forward, and logits are computed only for the rows that predict continuation
 * tokens. Log-softmax runs in double (see {@link TokenLogprob}).
 */
public final class Scorer {
    /** Tokens fed to the model per forward call at most (a single longer request still runs alone). */
    private static final int ROWS_PER_BATCH = 1024;

    private final GPT2Model model;
    private float[] logits = new float[0];

    /** A continuation to score after a context; the context needs at least one token (e.g. {@code <|endoftext|>}). */
    public record Request(int[] context, int[] continuation) {}

    /**
     * @param logprobs log p(continuation[i] | context, continuation[..i]), natural log
     * @param greedy   whether every continuation token is the model's argmax (LAMBADA's accuracy)
     */
    public record Score(double[] logprobs, boolean greedy) {
        public double sum() {
            double sum = 0;
            for (double lp : logprobs) sum += lp;
            return sum;
        }
    }

    /**
     * A whole text's score, as {@code jgpt score} prints it.
     *
     * @param tokens   the text's tokens, after {@code <|endoftext|>} when asked for
     * @param logprobs log p(tokens[i + 1] | tokens[..i]), natural log
     */
    public record TextScore(int[] tokens, double[] logprobs) {
        /** The mean negative log-probability of the scored tokens. */
        public double nll() {
            double sum = 0;
            for (double lp : logprobs) sum += lp;
            return -sum / logprobs.length;
        }

        public double perplexity() {
            return Math.exp(nll());
        }
    }

    public Scorer(GPT2Model model) {
        this.model = model;
    }

    /**
     * Scores every token of {@code text} after its first, or with {@code bos} every token after {@code <|endoftext|>}
     * put first. The text needs two tokens, or one with {@code bos}.
     */
    public TextScore scoreText(Tokenizer tokenizer, String text, boolean bos) {
        int[] encoded = tokenizer.encode(text);
        int[] tokens = new int[encoded.length + (bos ? 1 : 0)];
        if (bos) tokens[0] = tokenizer.endOfText();
        System.arraycopy(encoded, 0, tokens, bos ? 1 : 0, encoded.length);
        if (tokens.length < 2) {
            throw new IllegalArgumentException("the text has " + encoded.length + " token(s): scoring needs 2"
                    + (bos ? "" : ", or 1 with <|endoftext|> put first"));
        }
        return new TextScore(tokens, scoreTokens(tokens));
    }

    /**
     * Scores each request. A context too long for the model keeps its last tokens (as lm-evaluation-harness does);
     * a continuation alone longer than the context is an error.
     */
    public List<Score> score(List<Request> requests) {
        List<Score> scores = new ArrayList<>(requests.size());
        for (TokenLogprob[] continuation : logprobs(requests, 1)) {
            double[] logprobs = new double[continuation.length];
            boolean greedy = true;
            for (int i = 0; i < continuation.length; i++) {
                logprobs[i] = continuation[i].logprob();
                greedy &= continuation[i].topTokens()[0] == continuation[i].token();
            }
            scores.add(new Score(logprobs, greedy));
        }
        return scores;
    }

    /**
     * Log-probabilities of {@code tokens[1..]}, each given the tokens before it. A text longer than the context is
     * scored in overlapping windows, each token seeing at least half a context of preceding tokens.
     */
    public double[] scoreTokens(int[] tokens) {
        return tokenLogprobs(tokens, 0).stream().mapToDouble(TokenLogprob::logprob).toArray();
    }

    /** {@link #scoreTokens}, each token with the {@code top} most likely tokens at its position. */
    public List<TokenLogprob> tokenLogprobs(int[] tokens, int top) {
        if (tokens.length < 2) {
            throw new IllegalArgumentException("scoring needs at least 2 tokens (got " + tokens.length + ")");
        }
        int window = model.config().nPositions();
        int stride = Math.max(1, window / 2);
        List<Request> requests = new ArrayList<>();
        int scored = 1;
        while (scored < tokens.length) {
            int end = Math.min(tokens.length, scored == 1 ? window + 1 : scored + stride);
            int begin = Math.max(0, end - 1 - window);
            requests.add(new Request(Arrays.copyOfRange(tokens, begin, scored), Arrays.copyOfRange(tokens, scored, end)));
            scored = end;
        }
        List<TokenLogprob> logprobs = new ArrayList<>(tokens.length - 1);
        for (TokenLogprob[] scoredWindow : logprobs(requests, top)) logprobs.addAll(Arrays.asList(scoredWindow));
        return logprobs;
    }

    /** Each request's continuation tokens, each with the {@code top} most likely tokens at its position. */
    private List<TokenLogprob[]> logprobs(List<Request> requests, int top) {
        int context = model.config().nPositions();
        List<int[]> fed = new ArrayList<>(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            Request r = requests.get(i);
            if (r.context().length == 0) {
                throw new IllegalArgumentException("request " + i + ": the context is empty (start it with <|endoftext|>)");
            }
            if (r.continuation().length == 0) {
                throw new IllegalArgumentException("request " + i + ": the continuation is empty");
            }
            if (r.continuation().length > context) {
                throw new IllegalArgumentException("request " + i + ": a continuation of " + r.continuation().length
                        + " tokens does not fit the model's context of " + context);
            }
            // The last continuation token is predicted, never fed.
            int[] tokens = concat(r.context(), r.continuation());
            fed.add(Arrays.copyOfRange(tokens, Math.max(0, tokens.length - 1 - context), tokens.length - 1));
        }

        List<TokenLogprob[]> logprobs = new ArrayList<>(requests.size());
        int first = 0;
        while (first < requests.size()) {
            int end = first;
            int rows = 0;
            while (end < requests.size() && (end == first || rows + fed.get(end).length <= ROWS_PER_BATCH)) {
                rows += fed.get(end++).length;
            }
            scoreBatch(requests.subList(first, end), fed.subList(first, end), top, logprobs);
            first = end;
        }
        return logprobs;
    }

    private void scoreBatch(List<Request> requests, List<int[]> fed, int top, List<TokenLogprob[]> logprobs) {
        int n = requests.size();
        int vocab = model.config().vocabSize();
        int[][] tokens = fed.toArray(new int[0][]);
        KVCache[] caches = new KVCache[n];
        int[] logitRows = new int[n];
        int rows = 0;
        for (int i = 0; i < n; i++) {
            caches[i] = model.newCache(tokens[i].length);
            logitRows[i] = requests.get(i).continuation().length;
            rows += logitRows[i];
        }
        if (logits.length < (long) rows * vocab) logits = new float[Math.multiplyExact(rows, vocab)];
        model.forward(tokens, caches, logitRows, logits);

        int row = 0;
        for (Request r : requests) {
            int[] continuation = r.continuation();
            TokenLogprob[] scored = new TokenLogprob[continuation.length];
            for (int i = 0; i < continuation.length; i++, row++) {
                scored[i] = TokenLogprob.of(logits, row * vocab, vocab, continuation[i], top);
            }
            logprobs.add(scored);
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
