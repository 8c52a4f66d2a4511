package org.jgpt.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import org.jgpt.generate.GenerationOptions;
import org.jgpt.generate.Generator;
import org.jgpt.model.GPT2Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "generate", mixinStandardHelpOptions = true,
        header = "Continue a prompt with a GPT-2 or GPT-1 model.",
        description = "Continues each PROMPT, streaming the new text to stdout; several outputs are separated by a"
                + " line '---'. With no PROMPT, reads prompts from stdin, one per line, until end of input.",
        footerHeading = "%nExamples:%n",
        footer = {"  jgpt generate \"Fellow citizens of the Senate\"",
                "  jgpt generate --greedy --max-tokens 20 \"We the people\"",
                "  jgpt generate --top-k 40 --seed 7 --num-samples 2 \"Call me Ishmael\""})
final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", description = "Model directory: config.json, the weights, and the tokenizer unless it is GPT-2's (default: the built-in demo model).")
    Path modelDir;

    @Mixin
    DTypeOption dtype = new DTypeOption();

    @Option(names = "--max-tokens", defaultValue = "50", paramLabel = "N", description = "New tokens at most (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "1.0", paramLabel = "T", description = "Softmax temperature; 0 is greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", defaultValue = "0", paramLabel = "K", description = "Sample from the K likeliest tokens; 0 is off (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", defaultValue = "1.0", paramLabel = "P", description = "Nucleus sampling: the likeliest tokens holding P of the probability; 1 is off (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--repetition-penalty", defaultValue = "1.0", paramLabel = "R", description = "CTRL's penalty on tokens already seen; 1 is off (default: ${DEFAULT-VALUE}).")
    float repetitionPenalty;

    @Option(names = "--stop", paramLabel = "S", description = "Stop when the text contains S (left out of the output); repeatable (default: none, only <|endoftext|>).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--seed", paramLabel = "N", description = "Random seed, for reproducible samples (default: random).")
    Long seed;

    @Option(names = "--greedy", description = "Always take the likeliest token (same as --temperature 0).")
    boolean greedy;

    @Option(names = "--num-samples", defaultValue = "1", paramLabel = "N", description = "Samples per prompt (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--truncate", description = "Keep the last tokens of a prompt too long for the context, instead of failing.")
    boolean truncate;

    @Parameters(paramLabel = "PROMPT", arity = "0..*", description = "Text to continue; none: read prompts from stdin.")
    List<String> prompts = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        GenerationOptions options = new GenerationOptions(maxTokens, greedy ? 0f : temperature, topK, topP,
                repetitionPenalty, stop, seed != null ? seed : ThreadLocalRandom.current().nextLong(), samples, truncate);
        PrintWriter out = spec.commandLine().getOut();
        try (ModelDirectory dir = ModelDirectory.openOrBuiltIn(modelDir, dtype.q8())) {
            Generator generator = new Generator(new GPT2Model(dir.weights()), dir.tokenizer());
            if (!prompts.isEmpty()) {
                generator.generate(prompts, options, new InOrder(out, prompts.size() * samples));
                return 0;
            }
            PrintWriter err = spec.commandLine().getErr();
            boolean interactive = Terminal.stdinIsTerminal();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (true) {
                if (interactive) {
                    err.print("> ");
                    err.flush();
                }
                String line = in.readLine();
                if (line == null) break;
                generator.generate(List.of(line), options, new InOrder(out, samples));
            }
            if (interactive) err.println();
            return 0;
        }
    }

    /**
     * Streams sequence 0 as it is made; later sequences are held until those before them finish, so each output
     * reads whole, in order, as early as possible.
     */
    private static final class InOrder implements Generator.Listener {
        private final PrintWriter out;
        private final StringBuilder[] pending;
        private final boolean[] finished;
        private int current;

        InOrder(PrintWriter out, int sequences) {
            this.out = out;
            this.pending = new StringBuilder[sequences];
            this.finished = new boolean[sequences];
            for (int i = 0; i < sequences; i++) pending[i] = new StringBuilder();
        }

        @Override
        public void onText(int sequence, String text) {
            if (sequence == current) {
                out.print(text);
                out.flush();
            } else {
                pending[sequence].append(text);
            }
        }

        @Override
        public void onFinish(Generator.Completion completion) {
            finished[completion.sequence()] = true;
            while (current < finished.length && finished[current]) {
                out.println();
                current++;
                if (current < finished.length) {
                    out.println("---");
                    out.print(pending[current]);
                }
                out.flush();
            }
        }
    }
}
