package org.jgpt.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code jgpt} command: each subcommand parses its arguments, calls the core, and prints. */
@Command(name = "jgpt",
        mixinStandardHelpOptions = true,
        version = "jgpt 0.1.0",
        description = "GPT-2 in pure Java: tokenize, generate, score, serve, train and evaluate.",
        subcommands = {
                CommandLine.HelpCommand.class,
                TokenizeCommand.class, DetokenizeCommand.class, TokenizerCommand.class,
                GenerateCommand.class, ScoreCommand.class, ServeCommand.class,
                PrepareCommand.class, TrainCommand.class,
                EvalCommand.class, OverlapCommand.class,
                FillMaskCommand.class, EmbedCommand.class, FinetuneCommand.class, ClassifyCommand.class,
                BenchCommand.class, QuantizeCommand.class,
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, shared by {@link #main} and the tests. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("jgpt: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            if (System.getenv("JGPT_DEBUG") != null) ex.printStackTrace(commandLine.getErr());
            return 1;
        });
        return cli;
    }
}
