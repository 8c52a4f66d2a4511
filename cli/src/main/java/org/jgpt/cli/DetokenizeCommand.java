package org.jgpt.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jgpt.tokenizer.GPT2Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code jgpt detokenize}: token ids on stdin to the exact bytes on stdout. */
@Command(name = "detokenize", mixinStandardHelpOptions = true,
        header = "Turn token ids on stdin back into text.",
        description = "Reads token ids (separated by whitespace) from stdin and writes their exact bytes to stdout.",
        footerHeading = "%nExamples:%n",
        footer = {"  echo 15496 11 995 | jgpt detokenize",
                "  jgpt tokenize README.md | jgpt detokenize"})
public final class DetokenizeCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR",
            description = "A model directory whose tokenizer to use: vocab.json and merges.txt (default: GPT-2's own).")
    Path model;

    @Override
    public Integer call() throws IOException {
        GPT2Tokenizer tokenizer = TokenizerCommand.tokenizer(model);
        InputStream in = System.in;
        String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        String[] words = text.isEmpty() ? new String[0] : text.split("\\s+");
        int[] ids = new int[words.length];
        for (int i = 0; i < words.length; i++) {
            try {
                ids[i] = Integer.parseInt(words[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a token id: \"" + words[i] + "\" (input word " + (i + 1) + ")");
            }
        }
        // Decoded in full before anything is written, so a bad id leaves no partial output.
        byte[] bytes = tokenizer.decodeBytes(ids);
        PrintStream out = System.out;
        out.write(bytes);
        out.flush();
        return 0;
    }
}
