package org.jgpt.cli;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jgpt.generate.Scorer;
import org.jgpt.io.Json;
import org.jgpt.model.GPT2Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Prints the log-probability of each token of FILE given the tokens before it, as one JSON object:"
                + " {\"token_ids\": [...], \"logprobs\": [...], \"nll\": x, \"perplexity\": y}. logprobs (natural log) align"
                + " with the last entries of token_ids; nll is their negated mean, perplexity exp(nll). A text longer"
                + " than the context is scored in windows that overlap by half a context.")
final class ScoreCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", description = "Model directory (config.json, weights); default: the built-in demo model.")
    Path modelDir;

    @Option(names = "--bos", description = "Put <|endoftext|> before the text, so that its first token is scored too.")
    boolean bos;

    @Parameters(paramLabel = "FILE", description = "UTF-8 text to score.")
    Path file;

    @Override
    public Integer call() throws Exception {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + " is not valid UTF-8");
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        }
        try (ModelDirectory dir = ModelDirectory.openOrBuiltIn(modelDir)) {
            int[] encoded = dir.tokenizer().encode(text);
            int[] tokens = new int[encoded.length + (bos ? 1 : 0)];
            if (bos) tokens[0] = dir.tokenizer().endOfText();
            System.arraycopy(encoded, 0, tokens, bos ? 1 : 0, encoded.length);
            if (tokens.length < 2) {
                throw new IllegalArgumentException(file + " has " + encoded.length + " token(s): scoring needs 2"
                        + (bos ? "" : " (or 1 with --bos)"));
            }
            double[] logprobs = new Scorer(new GPT2Model(dir.weights())).scoreTokens(tokens);
            double sum = 0;
            for (double lp : logprobs) sum += lp;
            double nll = -sum / logprobs.length;
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("token_ids", tokens);
            result.put("logprobs", logprobs);
            result.put("nll", nll);
            result.put("perplexity", Math.exp(nll));
            spec.commandLine().getOut().println(Json.write(result));
            return 0;
        }
    }
}
