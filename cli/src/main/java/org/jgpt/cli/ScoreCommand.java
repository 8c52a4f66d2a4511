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
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "score", mixinStandardHelpOptions = true,
        header = "Print each token's log-probability under a model, as JSON.",
        footerHeading = "%nExamples:%n",
        footer = {"  jgpt score README.md",
                "  jgpt score --bos data/corpora/sotu/2021_joseph_r_biden_d.txt"},
        description = "Prints the log-probability of each token of FILE given the tokens before it, as one JSON object:"
                + " {\"token_ids\": [...], \"logprobs\": [...], \"nll\": x, \"perplexity\": y}. logprobs (natural log) align"
                + " with the last entries of token_ids; nll is their negated mean, perplexity exp(nll). A text longer"
                + " than the context is scored in windows that overlap by half a context.")
final class ScoreCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", description = "Model directory: config.json, the weights, and the tokenizer unless it is GPT-2's (default: the built-in demo model).")
    Path modelDir;

    @Mixin
    DTypeOption dtype = new DTypeOption();

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
        try (ModelDirectory dir = ModelDirectory.openOrBuiltIn(modelDir, dtype.q8())) {
            Scorer.TextScore score;
            try {
                score = new Scorer(new GPT2Model(dir.weights())).scoreText(dir.tokenizer(), text, bos);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage());
            }
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("token_ids", score.tokens());
            result.put("logprobs", score.logprobs());
            result.put("nll", score.nll());
            result.put("perplexity", score.perplexity());
            spec.commandLine().getOut().println(Json.write(result));
            return 0;
        }
    }
}
