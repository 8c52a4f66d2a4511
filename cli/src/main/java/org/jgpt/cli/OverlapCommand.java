package org.jgpt.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.jgpt.eval.BloomFilter;
import org.jgpt.eval.Overlap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "overlap", mixinStandardHelpOptions = true,
        header = "The GPT-2 paper's 8-gram overlap check between training and test text.",
        footerHeading = "%nExamples:%n",
        footer = {"  jgpt overlap build --out moby.bloom data/corpora/moby-dick.txt",
                "  jgpt overlap check --filter moby.bloom data/corpora/sotu/*.txt"},
        description = "The GPT-2 paper's overlap analysis: text normalised to lower-case alphanumeric words, the"
                + " training text's 8-grams in a Bloom filter saved to disk, then the share of each test set's 8-grams"
                + " found in it, overall and per document. Works as well on generated samples.",
        subcommands = {OverlapCommand.Build.class, OverlapCommand.Check.class})
final class OverlapCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "build", mixinStandardHelpOptions = true,
            header = "Put the training text's 8-grams into a Bloom filter.",
            footerHeading = "%nExamples:%n",
            footer = {"  jgpt overlap build --out moby.bloom data/corpora/moby-dick.txt",
                    "  jgpt overlap build --out pairs.bloom --rate 1e-6 --field en \\",
                    "      data/corpora/debian-l10n-en-fr/pairs.jsonl"},
            description = "Puts the 8-grams of the training files into a Bloom filter sized for them and saves it. A"
                    + " .jsonl file contributes each record's text field; any other file is read as plain text.")
    static final class Build implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--out", required = true, paramLabel = "FILTER", description = "Where to write the filter.")
        Path out;

        @Option(names = "--rate", paramLabel = "P", defaultValue = "1e-8",
                description = "The false-positive rate the filter is sized for (default: ${DEFAULT-VALUE}).")
        double rate;

        @Option(names = "--field", paramLabel = "NAME", defaultValue = "text", description = "The text field of .jsonl records (default: ${DEFAULT-VALUE}).")
        String field;

        @Parameters(paramLabel = "TRAIN_FILE", arity = "1..*", description = "Training text files.")
        List<Path> files;

        @Override
        public Integer call() throws Exception {
            Overlap.BuildReport report;
            try (ProgressBars progress = new ProgressBars(true)) {
                report = Overlap.build(files, rate, new Overlap.Format("---", field), progress);
            }
            report.filter().save(out);
            PrintWriter w = spec.commandLine().getOut();
            w.print(report.summary(out));
            w.flush();
            return 0;
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            header = "Report the share of a test set's 8-grams found in a filter.",
            footerHeading = "%nExamples:%n",
            footer = {"  jgpt overlap check --filter moby.bloom data/corpora/sotu/*.txt",
                    "  jgpt overlap check --filter moby.bloom --json samples.txt"},
            description = "Reports the share of each file's 8-grams found in the filter, and its distribution over the"
                    + " file's documents: each record of a .jsonl file, or the parts of any other file between lines"
                    + " equal to --separator (jgpt generate's '---' between samples).")
    static final class Check implements Callable<Integer> {
        @Spec
        CommandSpec spec;

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
            Overlap.CheckReport report;
            try (ProgressBars progress = new ProgressBars(true)) {
                report = Overlap.check(bloom, files, new Overlap.Format(separator, field), progress);
            }
            PrintWriter w = spec.commandLine().getOut();
            w.print(report.output(json));
            w.flush();
            return 0;
        }
    }
}
