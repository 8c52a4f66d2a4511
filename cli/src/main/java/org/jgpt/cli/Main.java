package org.jgpt.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code jgpt} command: each subcommand parses its arguments, calls the core, and prints. */
@Command(name = "jgpt",
        mixinStandardHelpOptions = true,
        version = "jgpt 0.1.0",
        description = {"GPT-2 in pure Java: tokenize, generate, score, serve, train, fine-tune and evaluate, with"
                + " Hugging Face model folders. Results go to stdout, progress and logs to stderr.",
                "Without --model, generate, score and serve use the built-in demo model (models/demo)."},
        subcommands = {
                CommandLine.HelpCommand.class,
                TokenizeCommand.class, DetokenizeCommand.class, TokenizerCommand.class,
                GenerateCommand.class, ScoreCommand.class, ServeCommand.class, InfoCommand.class,
                BuildCorpusCommand.class, PrepareCommand.class, TrainCommand.class,
                EvalCommand.class, OverlapCommand.class,
                FillMaskCommand.class, EmbedCommand.class, FinetuneCommand.class, ClassifyCommand.class,
                BenchCommand.class, QuantizeCommand.class, CompletionCommand.class,
        },
        footerHeading = "%nExamples:%n",
        footer = {"  jgpt generate \"Fellow citizens of the Senate\"",
                "  jgpt info --model models/demo",
                "  jgpt train --help"})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        Terminal.restoreStderr();
        CommandLine cli = commandLine();
        cli.setColorScheme(CommandLine.Help.defaultColorScheme(
                Terminal.colour(Terminal.stdoutIsTerminal()) ? CommandLine.Help.Ansi.ON : CommandLine.Help.Ansi.OFF));
        System.exit(cli.execute(args));
    }

    /** The configured command line, shared by {@link #main} and the tests. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("jgpt: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            if (System.getenv("JGPT_DEBUG") != null) ex.printStackTrace(commandLine.getErr());
            return 1;
        });
        CommandLine.Model.UsageMessageSpec help = cli.getSubcommands().get("help").getCommandSpec().usageMessage();
        help.footerHeading("%nExamples:%n").footer("  jgpt help train", "  jgpt help tokenizer train");
        abbreviateSynopses(cli);
        return cli;
    }

    /**
     * "Usage: jgpt train [OPTIONS]" rather than every option again, since the list gives them with their defaults;
     * the options in the order they are declared, which groups them by what they do; a heading above each part.
     */
    private static void abbreviateSynopses(CommandLine cli) {
        CommandLine.Model.UsageMessageSpec usage = cli.getCommandSpec().usageMessage();
        usage.abbreviateSynopsis(true).sortOptions(false).descriptionHeading("%n").parameterListHeading("%nArguments:%n")
                .optionListHeading("%nOptions:%n").commandListHeading("%nCommands:%n");
        if (usage.header().length > 0) usage.synopsisHeading("%nUsage: ");
        cli.getSubcommands().values().forEach(Main::abbreviateSynopses);
    }
}
