package org.jgpt.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jgpt.eval.CbtTask;
import org.jgpt.eval.ClassifyTask;
import org.jgpt.eval.CoqaTask;
import org.jgpt.eval.Datasets;
import org.jgpt.eval.Detokenizer;
import org.jgpt.eval.EvalResult;
import org.jgpt.eval.LambadaTask;
import org.jgpt.eval.LanguageModel;
import org.jgpt.eval.PerplexityTask;
import org.jgpt.eval.QaTask;
import org.jgpt.eval.SummarizeTask;
import org.jgpt.eval.TranslateTask;
import org.jgpt.eval.WinogradTask;
import org.jgpt.io.Json;
import org.jgpt.model.EncoderConfig;
import org.jgpt.model.GPT2Model;
import org.jgpt.train.ContrastiveData;
import org.jgpt.train.MaskedLmEvaluation;
import org.jgpt.train.Pooling;
import org.jgpt.train.RetrievalEvaluation;
import org.jgpt.train.SentenceEncoder;
import org.jgpt.train.TrainableEncoder;
import org.jgpt.train.TranslationLmEvaluation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Run one of the GPT-2 paper's zero-shot evaluations (or an encoder's).",
        footerHeading = "%nExamples:%n",
        footer = {"  jgpt eval --model models/demo --task perplexity \\",
                "      --data data/corpora/sotu/2021_joseph_r_biden_d.txt",
                "  jgpt eval --model models/demo --task classify --limit 20 \\",
                "      --data data/finetune/spam-assassin/test.jsonl \\",
                "      --template \"This email is {}.\"",
                "  jgpt eval --model gpt2 --task lambada --data lambada.jsonl --json > out.json"},
        description = "Runs one of the GPT-2 paper's zero-shot evaluations on a data file and prints its metrics as a"
                + " table (or JSON with --json, per-example details included). Tasks: perplexity, lambada, cbt,"
                + " winograd, coqa, summarize, translate, qa, classify; masked-lm, retrieval and tlm for encoders. docs/evaluation.md"
                + " describes each one's data format.")
final class EvalCommand implements Callable<Integer> {
    private static final List<String> TASKS =
            List.of("perplexity", "lambada", "cbt", "winograd", "coqa", "summarize", "translate", "qa", "classify",
                    "masked-lm", "retrieval", "tlm");

    private static final int MASKED_LM_BATCH = 8;
    private static final int MASKED_LM_WINDOW = 256;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model directory (config.json, weights).")
    Path modelDir;

    @Mixin
    DTypeOption dtype = new DTypeOption();

    @Option(names = "--task", required = true, paramLabel = "NAME", description = "The evaluation to run.")
    String task;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "The task's data file.")
    Path data;

    @Option(names = "--limit", paramLabel = "N", description = "Evaluate the first N examples only (default: all).")
    int limit;

    @Option(names = "--json", description = "Print the result as JSON: task, metrics and one record per example.")
    boolean json;

    @Option(names = "--context", paramLabel = "N",
            description = "perplexity, masked-lm: tokens per window (default: the model's context).")
    Integer context;

    @Option(names = "--stride", paramLabel = "N", description = "perplexity: tokens between window starts (default: half the context).")
    Integer stride;

    @Option(names = "--no-bos", description = "perplexity: do not put <|endoftext|> before each document (its first token then goes unscored).")
    boolean noBos;

    @Option(names = "--detokenizer", paramLabel = "NAME", defaultValue = "none",
            description = "perplexity, lambada: none, wikitext, ptb, lambada or lm1b (default: ${DEFAULT-VALUE}).")
    String detokenizer;

    @Option(names = "--shots", paramLabel = "N", defaultValue = "5",
            description = "translate, qa: the first N examples of the data are the prompt's examples; the rest are evaluated (default: ${DEFAULT-VALUE}).")
    int shots;

    @Option(names = "--reverse", description = "translate: French to English instead of English to French.")
    boolean reverse;

    @Option(names = "--max-tokens", paramLabel = "N",
            description = "coqa, qa, translate, summarize: tokens to generate at most (default: 32, 32, 64, 100).")
    Integer maxTokens;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "summarize: the sampling seed; masked-lm, tlm: the masks' (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--confident-fraction", paramLabel = "F", defaultValue = "0.01",
            description = "qa: the share of most confident answers whose exact match is also reported (default: ${DEFAULT-VALUE}).")
    double confidentFraction;

    @Option(names = "--labels", paramLabel = "A,B,...", split = ",",
            description = "classify: the labels, which numeric labels in the data index (default: those in the data, in order of first appearance).")
    List<String> labels;

    @Option(names = "--template", paramLabel = "TEXT", defaultValue = "The sentiment of this review is {}.",
            description = "classify: the sentence after the text, {} marking the label (default: '${DEFAULT-VALUE}').")
    String template;

    @Option(names = "--masking", paramLabel = "NAME", defaultValue = "mlm",
            description = "masked-lm: mlm, wwm or span, whatever the encoder was trained with (default: ${DEFAULT-VALUE}).")
    String masking;

    @Option(names = "--mask-rate", paramLabel = "R", defaultValue = "0.15",
            description = "masked-lm, tlm: the share of tokens masked (default: ${DEFAULT-VALUE}).")
    double maskRate;

    @Option(names = "--fields", paramLabel = "QUERY,CANDIDATE", split = ",",
            description = "retrieval: the JSONL fields of the query and of the text to retrieve (default: anchor,positive);"
                    + " tlm: the two languages (default: the model's own, else anchor,positive).")
    List<String> fields = List.of();

    @Option(names = "--candidates", paramLabel = "N", defaultValue = "1000",
            description = "retrieval: the first N held-out pairs; each query ranks its text among their N (default: ${DEFAULT-VALUE}).")
    int candidates;

    @Option(names = "--pooling", paramLabel = "mean|cls",
            description = "retrieval: pool this way instead of as the model's config.json says, e.g. for a masked-LM encoder, which names none (default: the model's own).")
    String pooling;

    @Override
    public Integer call() throws Exception {
        String name = task.toLowerCase(Locale.ROOT);
        if (!TASKS.contains(name)) {
            throw new IllegalArgumentException("unknown task '" + task + "' (" + String.join(", ", TASKS) + ")");
        }
        boolean q8 = dtype.q8();
        if (q8 && List.of("masked-lm", "retrieval", "tlm").contains(name)) {
            throw new IllegalArgumentException("--dtype q8_0 quantizes GPT models; --task " + name + " runs an encoder");
        }
        if (name.equals("masked-lm")) {
            print(maskedLm());
            return 0;
        }
        if (name.equals("retrieval")) {
            print(retrieval());
            return 0;
        }
        if (name.equals("tlm")) {
            print(translationLm());
            return 0;
        }
        Detokenizer detok = Detokenizer.parse(detokenizer);
        try (ModelDirectory dir = ModelDirectory.open(modelDir, q8)) {
            LanguageModel lm = new LanguageModel(new GPT2Model(dir.weights()), dir.tokenizer());
            EvalResult result;
            try (ProgressBars progress = new ProgressBars(false)) {
                result = run(name, lm, detok, progress);
            }
            print(result);
            return 0;
        }
    }

    private EvalResult run(String name, LanguageModel lm, Detokenizer detok, ProgressBars progress) throws IOException {
        return switch (name) {
            case "perplexity" -> {
                int window = context == null ? lm.contextLength() : context;
                yield new PerplexityTask(detok, window, stride == null ? Math.max(1, window / 2) : stride, !noBos)
                        .run(lm, documents(), progress);
            }
            case "lambada" -> new LambadaTask(detok).run(lm,
                    Datasets.jsonl(data, limit).stream().map(r -> r.string("text")).toList(), progress);
            case "cbt" -> CbtTask.run(lm, Datasets.limit(CbtTask.parse(data, Datasets.readText(data)), limit), progress);
            case "winograd" -> WinogradTask.run(lm,
                    Datasets.jsonl(data, limit).stream().map(WinogradTask::schema).toList(), progress);
            case "coqa" -> CoqaTask.run(lm, CoqaTask.read(data, limit), tokens(32), progress);
            case "summarize" -> SummarizeTask.run(lm, Datasets.jsonl(data, limit).stream()
                            .map(r -> new SummarizeTask.Article(r.string("article"), r.string("highlights"))).toList(),
                    SummarizeTask.options(tokens(100), seed), progress);
            case "translate" -> {
                List<TranslateTask.Pair> pairs = Datasets.jsonl(data, limit <= 0 ? 0 : limit + shots).stream()
                        .map(r -> reverse ? new TranslateTask.Pair(r.string("fr"), r.string("en"))
                                : new TranslateTask.Pair(r.string("en"), r.string("fr"))).toList();
                yield TranslateTask.run(lm, head(pairs), tail(pairs), tokens(64), progress);
            }
            case "qa" -> {
                List<QaTask.Question> questions = Datasets.jsonl(data, limit <= 0 ? 0 : limit + shots).stream()
                        .map(r -> new QaTask.Question(r.string("question"), r.strings("answer"))).toList();
                yield QaTask.run(lm, head(questions), tail(questions), tokens(32), confidentFraction, progress);
            }
            case "classify" -> {
                List<ClassifyTask.Example> examples = Datasets.jsonl(data, limit).stream()
                        .map(r -> new ClassifyTask.Example(r.string("text"), labelOf(r))).toList();
                List<String> classes = labels != null ? labels
                        : List.copyOf(new LinkedHashSet<>(examples.stream().map(ClassifyTask.Example::label).toList()));
                yield new ClassifyTask(classes, template).run(lm, examples, progress);
            }
            default -> throw new IllegalStateException("no case for task " + name);
        };
    }

    /** masked-lm: --data is a corpus made by 'jgpt prepare'; its validation split is scored in batches of 8 windows. */
    private EvalResult maskedLm() throws IOException {
        int window = context != null ? context
                : Math.min(MASKED_LM_WINDOW, EncoderConfig.load(TrainableEncoder.requireMaskedLm(modelDir)).maxLength());
        MaskedLmEvaluation.Result r = MaskedLmEvaluation.run(modelDir, data, masking, maskRate, MASKED_LM_BATCH, window,
                seed, limit > 0 ? limit : Integer.MAX_VALUE);
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("masked_token_loss", r.loss());
        metrics.put("masked_token_accuracy", r.accuracy());
        metrics.put("windows", r.batches() * MASKED_LM_BATCH);
        metrics.put("window_tokens", window);
        return new EvalResult("masked-lm (" + masking + ", " + maskRate + ")", metrics, List.of());
    }

    /**
     * retrieval: --data holds pairs (JSONL); the first --candidates of its held-out pairs (every 20th record, as
     * training holds them out), each query ranking its own text among theirs.
     */
    private EvalResult retrieval() {
        if (candidates < 1) throw new IllegalArgumentException("--candidates must be at least 1");
        SentenceEncoder encoder = pooling == null ? SentenceEncoder.open(modelDir) : SentenceEncoder.open(modelDir, Pooling.parse(pooling));
        List<ContrastiveData.Pair> heldOut = ContrastiveData.read(data, fields, true).heldOut();
        if (heldOut.isEmpty()) throw new IllegalArgumentException(data + " has no held-out pairs (every 20th record)");
        List<ContrastiveData.Pair> pairs = heldOut.subList(0, Math.min(candidates, heldOut.size()));
        RetrievalEvaluation.Result r = RetrievalEvaluation.run(encoder, pairs);
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("top1_accuracy", r.top1());
        metrics.put("top10_accuracy", r.top10());
        metrics.put("mrr", r.meanReciprocalRank());
        metrics.put("candidates", pairs.size());
        List<Map<String, Object>> examples = new ArrayList<>();
        for (int i = 0; i < pairs.size(); i++) {
            Map<String, Object> example = new LinkedHashMap<>();
            example.put("query", pairs.get(i).anchor());
            example.put("rank", r.ranks()[i]);
            examples.add(example);
        }
        return new EvalResult("retrieval (" + encoder.pooling().key() + " pooling)", metrics, examples);
    }

    /**
     * tlm: --data holds pairs (JSONL); its held-out pairs (every 20th record; the first --limit), one language's
     * tokens masked and scored with the other language visible and hidden, each way round.
     */
    private EvalResult translationLm() {
        TranslationLmEvaluation.Result r = TranslationLmEvaluation.run(modelDir, data, fields, maskRate, MASKED_LM_BATCH,
                seed, limit);
        Map<String, Object> metrics = new LinkedHashMap<>();
        for (TranslationLmEvaluation.Direction d : r.directions()) {
            String prefix = d.masked() + "_accuracy_" + d.other();
            metrics.put(prefix + "_visible", d.visibleAccuracy());
            metrics.put(prefix + "_hidden", d.hiddenAccuracy());
        }
        for (TranslationLmEvaluation.Direction d : r.directions()) {
            String prefix = d.masked() + "_loss_" + d.other();
            metrics.put(prefix + "_visible", d.visibleLoss());
            metrics.put(prefix + "_hidden", d.hiddenLoss());
        }
        for (TranslationLmEvaluation.Direction d : r.directions()) metrics.put(d.masked() + "_masked_tokens", d.tokens());
        metrics.put("pairs", r.pairs());
        String layout = r.languageEmbeddings() ? "language embeddings, positions per segment" : "RoBERTa's pair layout";
        return new EvalResult("tlm (" + maskRate + ", " + layout + ")", metrics, List.of());
    }

    /** perplexity: a .jsonl file holds one document per record ("text"); any other file is one plain-text document. */
    private List<String> documents() throws IOException {
        if (data.getFileName().toString().endsWith(".jsonl")) {
            return Datasets.jsonl(data, limit).stream().map(r -> r.string("text")).toList();
        }
        return List.of(Datasets.readText(data));
    }

    /** A string label as it is; a number (as in Hugging Face's imdb, sst2) indexes --labels when they are given. */
    private String labelOf(Datasets.Row row) {
        Object label = row.get("label");
        if (label instanceof String s) return s;
        if (!(label instanceof Number n)) throw row.error("field \"label\" must be a string or a number");
        if (labels == null) return n.toString();
        if (n.intValue() < 0 || n.intValue() >= labels.size()) {
            throw row.error("label " + n + " is not an index into --labels " + labels);
        }
        return labels.get(n.intValue());
    }

    private int tokens(int defaultValue) {
        return maxTokens == null ? defaultValue : maxTokens;
    }

    private <T> List<T> head(List<T> items) {
        if (items.size() <= shots) {
            throw new IllegalArgumentException(data + " has " + items.size() + " examples: none left after " + shots + " shots");
        }
        return items.subList(0, shots);
    }

    private <T> List<T> tail(List<T> items) {
        return items.subList(shots, items.size());
    }

    private void print(EvalResult result) {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(result.toJson()));
        } else {
            List<String[]> rows = new ArrayList<>();
            for (Map.Entry<String, Object> e : result.metrics().entrySet()) {
                rows.add(new String[] {e.getKey(), format(e.getValue())});
            }
            int width = rows.stream().mapToInt(r -> r[0].length()).max().orElse(0);
            out.println(result.task());
            for (String[] row : rows) out.printf("  %-" + width + "s  %s%n", row[0], row[1]);
        }
        out.flush();
    }

    private static String format(Object value) {
        if (value instanceof Double d) return String.format(Locale.ROOT, "%.4f", d);
        return String.valueOf(value);
    }
}
