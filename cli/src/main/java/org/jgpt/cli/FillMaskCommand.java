package org.jgpt.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.Callable;
import org.jgpt.io.Json;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.RobertaTokens;
import org.jgpt.train.TrainableEncoder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "fill-mask", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Fill the <mask> of a text with a masked-LM encoder.",
        description = {"Fills each <mask> of TEXT with a masked-LM encoder (jgpt train --objective mlm, or a Hugging"
                + " Face RoBERTa folder): the --top-k most probable tokens, one per line as probability, token and the"
                + " filled text. With --json, exactly what Hugging Face's fill-mask pipeline returns."},
        footerHeading = "%nExamples:%n",
        footer = {
                "  jgpt fill-mask --model runs/mlm \"The <mask> of the United States\"",
                "  jgpt fill-mask --model runs/mlm --top-k 3 --json \"We the <mask>\""})
final class FillMaskCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Encoder directory with a masked-LM head.")
    Path model;

    @Option(names = "--top-k", defaultValue = "5", paramLabel = "K", description = "Fillers per <mask> (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--json", description = "Print the fill-mask pipeline's JSON: a list of {score, token, token_str,"
            + " sequence}, best first; a list of such lists when the text has several masks.")
    boolean json;

    @Parameters(paramLabel = "TEXT", description = "Text with one or more <mask>.")
    String text;

    @Override
    public Integer call() {
        if (topK < 1) throw new IllegalArgumentException("--top-k must be at least 1");
        TrainableEncoder.requireMaskedLm(model);
        GPT2Tokenizer tokenizer = GPT2Tokenizer.fromDirectory(model);
        RobertaTokens special = RobertaTokens.of(tokenizer);
        // RoBERTa's <mask> takes the space before it (lstrip), so the filler brings its own, as in Hugging Face
        int[] ids = special.frame(tokenizer.encodeAllowingSpecial(text.replace(" <mask>", "<mask>")));
        int[] masks = java.util.stream.IntStream.range(0, ids.length).filter(i -> ids[i] == special.mask()).toArray();
        if (masks.length == 0) throw new IllegalArgumentException("the text has no <mask> to fill");
        TrainableEncoder encoder = TrainableEncoder.open(model, TrainableEncoder.Heads.maskedLmOnly(), 1, ids.length, 0f,
                false, 0);
        float[] logits = encoder.maskedLmLogits(ids, new int[] {ids.length}, masks);
        int vocab = encoder.config().vocabSize();
        int k = Math.min(topK, vocab);
        List<List<Map<String, Object>>> results = new ArrayList<>();
        for (int m = 0; m < masks.length; m++) {
            double[] probabilities = softmax(logits, m * vocab, vocab);
            List<Map<String, Object>> fillers = new ArrayList<>();
            for (int id : best(probabilities, k)) {
                int[] filled = ids.clone();
                filled[masks[m]] = id;
                Map<String, Object> filler = new LinkedHashMap<>();
                filler.put("score", probabilities[id]);
                filler.put("token", id);
                filler.put("token_str", tokenizer.decode(new int[] {id}));
                // as the pipeline: special tokens are left out of the sequence only when there is one mask
                filler.put("sequence", tokenizer.decode(masks.length == 1 ? withoutSpecial(filled, special) : filled));
                fillers.add(filler);
            }
            results.add(fillers);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(masks.length == 1 ? results.getFirst() : results));
        } else {
            for (int m = 0; m < results.size(); m++) {
                if (masks.length > 1) out.printf("<mask> %d of %d%n", m + 1, masks.length);
                for (Map<String, Object> f : results.get(m)) {
                    out.printf(Locale.ROOT, "%.4f\t%s\t%s%n", (Double) f.get("score"), Json.write(f.get("token_str")), f.get("sequence"));
                }
            }
        }
        out.flush();
        return 0;
    }

    private static double[] softmax(float[] logits, int offset, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[offset + i]);
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) sum += p[i] = Math.exp(logits[offset + i] - max);
        for (int i = 0; i < n; i++) p[i] /= sum;
        return p;
    }

    /**
     * The ids of the {@code k} largest probabilities, largest first (ties to the smaller id). A heap keeps the best k
     * seen so far, the worst of them on top, so a vocabulary of V costs V log k rather than a sort of V.
     */
    static int[] best(double[] p, int k) {
        Comparator<Integer> better = (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b);
        PriorityQueue<Integer> kept = new PriorityQueue<>(k + 1, better.reversed());
        for (int id = 0; id < p.length; id++) {
            if (kept.size() < k) {
                kept.add(id);
            } else if (better.compare(id, kept.peek()) < 0) {
                kept.poll();
                kept.add(id);
            }
        }
        int[] ids = new int[kept.size()];
        for (int i = ids.length - 1; i >= 0; i--) ids[i] = kept.poll();
        return ids;
    }

    private static int[] withoutSpecial(int[] ids, RobertaTokens special) {
        return Arrays.stream(ids).filter(id -> !special.isSpecial(id)).toArray();
    }
}
