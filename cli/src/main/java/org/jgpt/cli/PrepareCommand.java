package org.jgpt.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.train.CorpusPreparer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "prepare", mixinStandardHelpOptions = true,
        header = "Tokenize a corpus into token shards for training.",
        description = {"Tokenizes a corpus into uint16 token shards (llm.c's format) for 'jgpt train'. A document is a"
                + " file, or a line of a .jsonl file (its \"text\" field); directories are read in name order."
                + " <|endoftext|> precedes every document (</s> with a RoBERTa-style vocabulary, which has no"
                + " <|endoftext|>). The last documents go to validation."},
        footerHeading = "%nExamples:%n",
        footer = {"  jgpt prepare --out sotu-data data/corpora/sotu data/corpora/moby-dick.txt",
                "  jgpt prepare --model models/demo --val-fraction 0.1 --out demo-data \\",
                "      data/corpora/sotu"})
final class PrepareCommand implements Callable<Integer> {
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
        GPT2Tokenizer tokenizer = model == null ? GPT2Tokenizer.gpt2() : GPT2Tokenizer.fromDirectory(model);
        CorpusPreparer.Summary summary;
        try (ProgressBars progress = new ProgressBars(true)) {
            progress.start("prepare", 0);
            summary = CorpusPreparer.prepare(inputs, out, tokenizer, valFraction, shardTokens, (done, total) -> {
                progress.maxHint(total);
                progress.stepTo(done);
            });
        }
        System.out.print(summary.summary(out));
        return 0;
    }
}
