package org.jgpt.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.jgpt.tokenizer.BpeTrainer;
import org.jgpt.tokenizer.BpeTrainer.SpecialTokens;
import org.jgpt.tokenizer.GPT2Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jgpt tokenizer}: tokenizer tools; {@code jgpt tokenizer train} learns a BPE vocabulary. */
@Command(name = "tokenizer", mixinStandardHelpOptions = true,
        header = "Tokenizer tools: learn a BPE vocabulary.",
        description = "Tokenizer tools. 'jgpt tokenizer train' learns byte-level BPE merges, as GPT-2's were learnt.",
        subcommands = TokenizerCommand.Train.class,
        footerHeading = "%nExamples:%n",
        footer = {"  jgpt tokenizer train --vocab-size 8192 --out sotu-tok data/corpora/sotu",
                "  jgpt tokenizer train --help"})
public final class TokenizerCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            header = "Learn a byte-level BPE vocabulary from text.",
            description = "Learns byte-level BPE merges on the files (folders: every file in them, sorted) and writes "
                    + "vocab.json and merges.txt to DIR. Same files, same output.",
            footerHeading = "%nExamples:%n",
            footer = {"  jgpt tokenizer train --vocab-size 8192 --out sotu-tok data/corpora/sotu",
                    "  jgpt tokenizer train --roberta --vocab-size 8000 --out enc-tok \\",
                    "      data/corpora/sotu"})
    static final class Train implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--vocab-size", required = true, paramLabel = "N",
                description = "Ids in the vocabulary, special tokens included: 256 bytes, N - 257 learned tokens, "
                        + "<|endoftext|> last (with --roberta: N - 261 learned tokens).")
        int vocabSize;

        @Option(names = "--roberta", defaultValue = "false",
                description = "Reserve RoBERTa's special tokens, for masked-language-model training: <s> <pad> </s> "
                        + "<unk> as ids 0-3, before the bytes, <mask> last, and no <|endoftext|> "
                        + "(default: ${DEFAULT-VALUE}).")
        boolean roberta;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write vocab.json and merges.txt.")
        Path out;

        @Parameters(paramLabel = "FILE", arity = "1..*", description = "Training text: files or folders.")
        List<Path> inputs;

        @Override
        public Integer call() throws IOException {
            List<byte[]> texts = new ArrayList<>();
            for (Path input : inputs) {
                for (Path file : filesOf(input)) texts.add(readFile(file));
            }
            SpecialTokens specials = roberta ? SpecialTokens.ROBERTA : SpecialTokens.GPT2;
            GPT2Tokenizer tokenizer;
            try (ProgressBars progress = new ProgressBars(false)) {
                progress.start("learning merges", Math.max(0, vocabSize - 256 - specials.count()));
                tokenizer = BpeTrainer.train(texts, vocabSize, specials, (learned, wanted) -> progress.stepTo(learned));
            }
            tokenizer.save(out);
            spec.commandLine().getOut().println("wrote " + out.resolve("vocab.json") + " and " + out.resolve("merges.txt")
                    + ": " + tokenizer.vocabSize() + " tokens");
            spec.commandLine().getOut().flush();
            return 0;
        }

        private static List<Path> filesOf(Path input) throws IOException {
            if (!Files.isDirectory(input)) return List.of(input);
            try (Stream<Path> files = Files.walk(input)) {
                return files.filter(Files::isRegularFile).sorted().toList();
            }
        }
    }

    static GPT2Tokenizer tokenizer(Path model) {
        return model == null ? GPT2Tokenizer.gpt2() : GPT2Tokenizer.fromDirectory(model);
    }

    static byte[] readFile(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }
}
