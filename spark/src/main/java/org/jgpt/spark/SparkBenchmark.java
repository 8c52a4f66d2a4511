package org.jgpt.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.jgpt.eval.Overlap;
import org.jgpt.eval.Progress;
import org.jgpt.io.Json;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.train.CorpusPreparer;
import org.jgpt.train.corpus.CorpusBuilder;

/**
 * Documents and megabytes per second of the corpus builder, tokenizing and the overlap filter, in one process and as
 * Spark jobs in local mode, in one run (bench/spark-bench.sh). The single-process commands use one thread, so
 * local[1] is the like-for-like comparison; local[N] shows the scaling. The two sides run interleaved, a job on one
 * side and then on the other, and each figure is the median of {@value #ROUNDS} rounds after {@value #WARMUP_ROUNDS}
 * that warm the JIT: measured one side after the other, the second side ran on code the first had compiled, and
 * the sub-second jobs swung by ±30% (bench/README.md). Spark's start-up is timed apart, as it is paid once per job
 * whatever the corpus size.
 *
 * <p>Usage: SparkBenchmark CORPUS_DIR_OR_FILE... [--threads N]
 */
public final class SparkBenchmark {
    /** Measured rounds; each runs every job once on each side, the two sides back to back. */
    private static final int ROUNDS = 9;
    /** Rounds run first and not counted, while the JIT compiles both sides' code. */
    private static final int WARMUP_ROUNDS = 2;

    private SparkBenchmark() {}

    interface Job {
        void run(Path out) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        List<Path> corpus = new ArrayList<>();
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--threads")) threads = Integer.parseInt(args[++i]);
            else corpus.add(Path.of(args[i]));
        }
        Path work = Files.createTempDirectory("jgpt-spark-bench");
        try {
            List<Path> files = CorpusPreparer.inputFiles(corpus);
            long bytes = 0;
            for (Path f : files) bytes += Files.size(f);
            Path html = writePages(files, work.resolve("pages"));
            long htmlBytes = 0;
            for (Path f : CorpusPreparer.inputFiles(List.of(html))) htmlBytes += Files.size(f);
            CorpusBuilder.Settings settings = new CorpusBuilder.Settings(CorpusBuilder.Settings.DEFAULT_EXCLUDED, 50, 0.8, 0);
            int documents = files.size();
            System.out.printf(Locale.ROOT, "corpus: %d files, %.1f MB; as HTML pages: %.1f MB%n", documents, bytes / 1e6, htmlBytes / 1e6);

            var filter = Overlap.build(files, 1e-8, Overlap.Format.DEFAULT, Progress.NONE).filter();
            Map<String, Job> single = new LinkedHashMap<>();
            single.put("build-corpus", out -> CorpusBuilder.build(List.of(html), out, settings));
            single.put("prepare", out -> CorpusPreparer.prepare(corpus, out, GPT2Tokenizer.gpt2(), 0.05, 10_000_000, null));
            single.put("overlap-build", out -> Overlap.build(files, 1e-8, Overlap.Format.DEFAULT, Progress.NONE));
            single.put("overlap-check", out -> Overlap.check(filter, files, Overlap.Format.DEFAULT, Progress.NONE));

            Map<String, Object> results = new LinkedHashMap<>();
            long[] sizes = {htmlBytes, bytes, 2 * bytes, bytes};
            for (String master : new String[] {"local[1]", "local[" + threads + "]"}) {
                long start = System.nanoTime();
                JavaSparkContext context = SparkJobs.context(master, "bench");
                double startup = (System.nanoTime() - start) / 1e9;
                SparkJobs jobs = new SparkJobs(context, SparkJobs.SPLIT_BYTES);
                Map<String, Job> spark = new LinkedHashMap<>();
                spark.put("build-corpus", out -> jobs.buildCorpus(List.of(html), out, settings));
                spark.put("prepare", out -> jobs.prepare(corpus, out, null, 0.05, 10_000_000));
                spark.put("overlap-build", out -> jobs.overlapBuild(files, 1e-8, Overlap.Format.DEFAULT));
                spark.put("overlap-check", out -> jobs.overlapCheck(filter, files, Overlap.Format.DEFAULT));
                List<FileSplit> splits = FileSplit.of(files, SparkJobs.SPLIT_BYTES, CorpusPreparer::isJsonl);
                int partitions = jobs.partitions(splits), filterPartitions = jobs.filterPartitions(splits);
                Map<String, double[]> oneTimes = new LinkedHashMap<>(), sparkTimes = new LinkedHashMap<>();
                try {
                    for (String job : single.keySet()) {
                        oneTimes.put(job, new double[ROUNDS]);
                        sparkTimes.put(job, new double[ROUNDS]);
                    }
                    for (int round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
                        for (String job : single.keySet()) {
                            // Alternating which side goes first, so that neither always runs on the other's garbage.
                            boolean singleFirst = (round & 1) == 0;
                            double a = time(work, singleFirst ? single.get(job) : spark.get(job));
                            double b = time(work, singleFirst ? spark.get(job) : single.get(job));
                            if (round < 0) continue;
                            oneTimes.get(job)[round] = singleFirst ? a : b;
                            sparkTimes.get(job)[round] = singleFirst ? b : a;
                        }
                    }
                } finally {
                    context.close();
                }
                System.out.printf(Locale.ROOT, "%n%s: Spark start-up %.1f s; %d files in %d partitions (%d tasks a stage),"
                        + " overlap build in %d%n", master, startup, files.size(), partitions, partitions, filterPartitions);
                System.out.printf("%-14s %10s %10s %10s %10s %10s %9s%n", "job", "1-proc s", "spark s", "docs/s", "MB/s",
                        "spark MB/s", "overhead");
                int i = 0;
                for (String job : single.keySet()) {
                    double one = median(oneTimes.get(job)), distributed = median(sparkTimes.get(job));
                    System.out.printf(Locale.ROOT, "%-14s %10.2f %10.2f %10.0f %10.2f %10.2f %8.0f%%%n", job, one, distributed,
                            documents / one, sizes[i] / 1e6 / one, sizes[i] / 1e6 / distributed, 100 * (distributed / one - 1));
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("single_seconds", one);
                    row.put("spark_seconds", distributed);
                    row.put("megabytes", sizes[i] / 1e6);
                    row.put("documents", documents);
                    row.put("overhead_percent", 100 * (distributed / one - 1));
                    results.put(master + " " + job, row);
                    i++;
                }
                results.put(master + " startup_seconds", startup);
            }
            System.out.println(Json.write(results));
        } finally {
            try (Stream<Path> walk = Files.walk(work)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
    }

    /** One run, in seconds, writing to a fresh output path. */
    private static double time(Path work, Job job) throws Exception {
        Path out = Files.createTempDirectory(work, "out").resolve("out");
        long start = System.nanoTime();
        job.run(out);
        return (System.nanoTime() - start) / 1e9;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** Each document as a web page: its paragraphs in an article, with a site's navigation, aside and footer. */
    private static Path writePages(List<Path> files, Path dir) throws IOException {
        Files.createDirectories(dir);
        for (int i = 0; i < files.size(); i++) {
            StringBuilder page = new StringBuilder("<!doctype html><html><head><title>Page ").append(i)
                    .append("</title><script>var analytics = 1;</script></head><body><header><h1>The Site</h1></header>")
                    .append("<nav><a href=/>Home</a> <a href=/archive>Archive</a></nav><article>");
            for (String paragraph : Files.readString(files.get(i)).split("\n\\s*\n")) {
                page.append("<p>").append(paragraph.replace("&", "&amp;").replace("<", "&lt;")).append("</p>\n");
            }
            page.append("</article><aside>Related pages</aside><footer>Copyright</footer></body></html>");
            Files.writeString(dir.resolve(String.format("page-%05d.html", i)), page);
        }
        return dir;
    }
}
