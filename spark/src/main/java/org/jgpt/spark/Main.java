package org.jgpt.spark;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.api.java.JavaSparkContext;
import org.jgpt.eval.BloomFilter;
import org.jgpt.eval.Overlap;
import org.jgpt.train.CorpusPreparer;
import org.jgpt.train.corpus.CorpusBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code jgpt spark ...}: the corpus builder, {@code prepare} and {@code overlap build|check} as Spark jobs, with the
 * single-process commands' arguments and outputs, plus {@code --master} (default {@code local[*]}, or the master
 * that spark-submit was given).
 */
@Command(name = "jgpt spark", mixinStandardHelpOptions = true,
        description = "jgpt's data jobs on Apache Spark: the same arguments and outputs as the single-process commands.",
        subcommands = {CommandLine.HelpCommand.class, Main.BuildCorpus.class, Main.Prepare.class, Main.OverlapBuild.class,
                Main.OverlapCheck.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("jgpt spark: " + message(e));
            return 1;
        });
        System.exit(cli.execute(args));
    }

    /** The message of the error a task threw: it arrives wrapped in Spark's job failure. */
    static String message(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null && cause.getClass().getName().startsWith("org.apache.spark.")) cause = cause.getCause();
        String text = cause.getMessage() != null ? cause.getMessage() : cause.toString();
        return cause instanceof IOException || cause instanceof IllegalArgumentException ? text : cause.getClass().getSimpleName() + ": " + text;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The options every job has. */
    static final class SparkOptions {
        @Option(names = "--master", paramLabel = "URL",
                description = "Spark master: local[*] (the default, in this process), local[N], spark://host:7077, yarn, k8s://...")
        String master;

        @Option(names = "--split-mb", defaultValue = "64", paramLabel = "MB",
                description = "Largest byte range of a .jsonl file one task reads (default: ${DEFAULT-VALUE}).")
        long splitMegabytes;

        JavaSparkContext context(String job) {
            return SparkJobs.context(master, job);
        }
    }

    @Command(name = "build-corpus", mixinStandardHelpOptions = true,
            description = "jgpt build-corpus as a Spark job: the same documents.jsonl and report.json.")
    static final class BuildCorpus implements Callable<Integer> {
        @Mixin
        SparkOptions spark;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (must not exist).")
        Path out;

        @Option(names = "--exclude-domains", split = ",", paramLabel = "DOMAIN", defaultValue = "wikipedia.org",
                description = "Domains left out with their subdomains, comma-separated; '' for none (default: ${DEFAULT-VALUE}, as the GPT-2 paper did).")
        List<String> excludeDomains;

        @Option(names = "--min-words", defaultValue = "50", paramLabel = "N", description = "Documents with fewer words are dropped (default: ${DEFAULT-VALUE}).")
        int minWords;

        @Option(names = "--near-threshold", defaultValue = "0.8", paramLabel = "J",
                description = "Estimated Jaccard similarity of word 5-gram sets at which a document is a near duplicate of an earlier one (default: ${DEFAULT-VALUE}).")
        double nearThreshold;

        @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Seed of the MinHash functions (default: ${DEFAULT-VALUE}).")
        long seed;

        @Parameters(arity = "1..*", paramLabel = "INPUT", description = "Files or directories: .html/.htm pages, .warc/.warc.gz archives, .jsonl records, other files as plain text.")
        List<Path> inputs;

        @Override
        public Integer call() throws Exception {
            CorpusBuilder.Settings settings = new CorpusBuilder.Settings(excludeDomains, minWords, nearThreshold, seed);
            CorpusBuilder.checkOutput(out);
            long start = System.nanoTime();
            try (JavaSparkContext context = spark.context("build-corpus")) {
                CorpusBuilder.Report report = new SparkJobs(context, spark.splitMegabytes << 20).buildCorpus(inputs, out, settings);
                System.out.print(report.summary(out, (System.nanoTime() - start) / 1e9));
            }
            return 0;
        }
    }

    @Command(name = "prepare", mixinStandardHelpOptions = true,
            description = "jgpt prepare as a Spark job: byte for byte the same token shards and manifest.")
    static final class Prepare implements Callable<Integer> {
        @Mixin
        SparkOptions spark;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (must not exist or be empty).")
        Path out;

        @Option(names = "--val-fraction", defaultValue = "0.05", paramLabel = "F", description = "Fraction of documents held out for validation (default: ${DEFAULT-VALUE}).")
        double valFraction;

        @Option(names = "--model", paramLabel = "DIR", description = "Model or tokenizer directory whose vocab.json and merges.txt to use (default: GPT-2's own).")
        Path model;

        @Option(names = "--shard-tokens", defaultValue = "10000000", paramLabel = "N", description = "Tokens per shard file (default: ${DEFAULT-VALUE}).")
        int shardTokens;

        @Parameters(arity = "1..*", paramLabel = "INPUT", description = "Files, directories or .jsonl files.")
        List<Path> inputs;

        @Override
        public Integer call() throws Exception {
            try (JavaSparkContext context = spark.context("prepare")) {
                CorpusPreparer.Summary summary = new SparkJobs(context, spark.splitMegabytes << 20)
                        .prepare(inputs, out, model, valFraction, shardTokens);
                System.out.print(summary.summary(out));
            }
            return 0;
        }
    }

    @Command(name = "overlap-build", mixinStandardHelpOptions = true,
            description = "jgpt overlap build as a Spark job: bit for bit the same filter (one per partition, OR-ed).")
    static final class OverlapBuild implements Callable<Integer> {
        @Mixin
        SparkOptions spark;

        @Option(names = "--out", required = true, paramLabel = "FILTER", description = "Where to write the filter.")
        Path out;

        @Option(names = "--rate", paramLabel = "P", defaultValue = "1e-8", description = "The false-positive rate the filter is sized for (default: ${DEFAULT-VALUE}).")
        double rate;

        @Option(names = "--field", paramLabel = "NAME", defaultValue = "text", description = "The text field of .jsonl records (default: ${DEFAULT-VALUE}).")
        String field;

        @Parameters(paramLabel = "TRAIN_FILE", arity = "1..*", description = "Training text files.")
        List<Path> files;

        @Override
        public Integer call() throws Exception {
            try (JavaSparkContext context = spark.context("overlap-build")) {
                Overlap.BuildReport report = new SparkJobs(context, spark.splitMegabytes << 20)
                        .overlapBuild(files, rate, new Overlap.Format("---", field));
                report.filter().save(out);
                System.out.print(report.summary(out));
            }
            return 0;
        }
    }

    @Command(name = "overlap-check", mixinStandardHelpOptions = true,
            description = "jgpt overlap check as a Spark job: the same report.")
    static final class OverlapCheck implements Callable<Integer> {
        @Mixin
        SparkOptions spark;

        @Option(names = "--filter", required = true, paramLabel = "FILTER", description = "A filter made by overlap build.")
        Path filter;

        @Option(names = "--separator", paramLabel = "LINE", defaultValue = "---", description = "The line between documents (default: ${DEFAULT-VALUE}).")
        String separator;

        @Option(names = "--field", paramLabel = "NAME", defaultValue = "text", description = "The text field of .jsonl records (default: ${DEFAULT-VALUE}).")
        String field;

        @Option(names = "--json", description = "Print the result as JSON.")
        boolean json;

        @Parameters(paramLabel = "TEST_FILE", arity = "1..*", description = "Test sets or generated samples.")
        List<Path> files;

        @Override
        public Integer call() throws Exception {
            BloomFilter bloom = BloomFilter.load(filter);
            try (JavaSparkContext context = spark.context("overlap-check")) {
                Overlap.CheckReport report = new SparkJobs(context, spark.splitMegabytes << 20)
                        .overlapCheck(bloom, files, new Overlap.Format(separator, field));
                System.out.print(report.output(json));
            }
            return 0;
        }
    }
}
