package org.jgpt.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jgpt.tokenizer.GPT2Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jgpt tokenize}: one line of token ids per file. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        header = "Print the token ids of files.",
        description = "Prints, for each file, one line of its token ids separated by spaces (GPT-2's tokenizer, or"
                + " a model folder's).",
        footerHeading = "%nExamples:%n",
        footer = {"  jgpt tokenize README.md",
                "  jgpt tokenize --count data/corpora/moby-dick.txt",
                "  jgpt tokenize README.md | jgpt detokenize"})
public final class TokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR",
            description = "A model directory whose tokenizer to use: vocab.json and merges.txt (default: GPT-2's own).")
    Path model;

    @Option(names = "--allow-special", description = "Map the text <|endoftext|> to its id (50256) instead of reading it as text.")
    boolean allowSpecial;

    @Option(names = "--count", description = "Print only the number of tokens of each file.")
    boolean count;

    @Parameters(paramLabel = "FILE", arity = "1..*", description = "Files to tokenize (their bytes, as they are).")
    List<Path> files;

    @Override
    public Integer call() {
        GPT2Tokenizer tokenizer = TokenizerCommand.tokenizer(model);
        List<String> lines = new ArrayList<>();
        for (Path file : files) {
            byte[] bytes = TokenizerCommand.readFile(file);
            int[] ids = allowSpecial ? tokenizer.encodeAllowingSpecial(bytes) : tokenizer.encode(bytes);
            lines.add(count ? String.valueOf(ids.length) : join(ids));
        }
        lines.forEach(spec.commandLine().getOut()::println);
        spec.commandLine().getOut().flush();
        return 0;
    }

    private static String join(int[] ids) {
        StringBuilder sb = new StringBuilder(ids.length * 6);
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) sb.append(' ');
            sb.append(ids[i]);
        }
        return sb.toString();
    }
}
