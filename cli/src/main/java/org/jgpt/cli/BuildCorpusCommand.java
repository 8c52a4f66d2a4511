package org.jgpt.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.jgpt.train.corpus.CorpusBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "build-corpus", mixinStandardHelpOptions = true,
        header = "Build a WebText-style corpus from web pages or text: main text, no duplicates, no Wikipedia.",
        footerHeading = "%nExamples:%n",
        footer = {"  jgpt build-corpus --out web pages/ crawl.warc.gz",
                "  jgpt build-corpus --out web --near-threshold 0.9 --min-words 100 records.jsonl",
                "  jgpt build-corpus --out sotu-corpus --exclude-domains '' data/corpora/sotu"},
        description = {"Builds a WebText-style corpus: the main text of HTML pages (files or WARC archives) or plain"
                + " text / JSONL records, documents from excluded domains and short ones left out, exact and near"
                + " duplicates (MinHash with LSH) removed, the first of each kept.",
                "Writes OUT/documents.jsonl (a \"text\" and a \"url\" field; jgpt prepare reads it) and OUT/report.json"
                        + " (what each stage kept and dropped). jgpt spark build-corpus gives the same output on a cluster."})
final class BuildCorpusCommand implements Callable<Integer> {
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
        long start = System.nanoTime();
        CorpusBuilder.Report report = CorpusBuilder.build(inputs, out,
                new CorpusBuilder.Settings(excludeDomains, minWords, nearThreshold, seed));
        System.out.print(report.summary(out, (System.nanoTime() - start) / 1e9));
        return 0;
    }
}
