package org.jgpt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** Every command's --help: each option and parameter described, each default shown, and examples that parse. */
class HelpTest {

    @Test
    void everyCommandsHelpPrintsAndEndsWithExamples() {
        for (CommandLine command : commands()) {
            String name = command.getCommandSpec().qualifiedName(" ");
            List<String> args = new ArrayList<>(List.of(name.split(" ")).subList(1, name.split(" ").length));
            args.add("--help");
            CliRun run = CliRun.of(args.toArray(String[]::new));
            assertEquals(0, run.exitCode(), name + " --help");
            String help = run.out().stripTrailing();
            int examples = help.lastIndexOf("\nExamples:\n");
            assertTrue(examples > 0, name + " --help ends with its examples:\n" + help);
            List<String> lines = help.substring(examples).strip().lines().skip(1).toList();
            for (String line : lines) {
                assertTrue(line.startsWith("  "), name + ": '" + line + "' is an example, not one wrapped onto a new line");
            }
            List<String> examplesShown = examples(lines.toArray(String[]::new));
            assertTrue(examplesShown.size() >= 2 && examplesShown.size() <= 3, name + ": two or three examples, not " + lines);
        }
    }

    @Test
    void everyOptionAndParameterSaysWhatItDoesAndItsDefault() {
        List<String> problems = new ArrayList<>();
        for (CommandLine command : commands()) {
            CommandSpec spec = command.getCommandSpec();
            for (OptionSpec option : spec.options()) {
                String where = spec.qualifiedName(" ") + " " + option.longestName();
                String description = description(option);
                if (description.isBlank()) {
                    problems.add(where + ": no description");
                } else if (!option.usageHelp() && !option.versionHelp() && !option.required() && !isFlag(option)
                        && !description.toLowerCase(Locale.ROOT).contains("default")) {
                    problems.add(where + ": no default in \"" + description + "\"");
                } else if (option.defaultValue() != null && !isFlag(option)
                        && !description.contains(option.defaultValue())) {
                    problems.add(where + ": the default " + option.defaultValue() + " is not shown in \"" + description + "\"");
                }
            }
            for (PositionalParamSpec parameter : spec.positionalParameters()) {
                if (description(parameter).isBlank()) {
                    problems.add(spec.qualifiedName(" ") + " " + parameter.paramLabel() + ": no description");
                }
            }
        }
        assertEquals(List.of(), problems);
    }

    @Test
    void everyExampleParses() {
        int parsed = 0;
        for (CommandLine command : commands()) {
            CommandSpec spec = command.getCommandSpec();
            List<String> footer = examples(spec.usageMessage().footer());
            assertTrue(!footer.isEmpty(), spec.qualifiedName(" ") + " has examples");
            for (String example : footer) {
                List<List<String>> invocations = invocations(example);
                assertTrue(!invocations.isEmpty(), "'" + example + "' runs jgpt");
                List<String> commandsRun = new ArrayList<>();
                for (List<String> args : invocations) {
                    CommandLine.ParseResult result;
                    try {
                        result = Main.commandLine().parseArgs(args.toArray(String[]::new));
                    } catch (CommandLine.ParameterException e) {
                        fail("'" + example + "' in " + spec.qualifiedName(" ") + " --help does not parse: " + e.getMessage());
                        return;
                    }
                    while (result.hasSubcommand()) result = result.subcommand();
                    commandsRun.add(result.commandSpec().qualifiedName(" "));
                    parsed++;
                }
                if (spec.parent() != null) {
                    assertTrue(commandsRun.stream().anyMatch(run -> (run + " ").startsWith(spec.qualifiedName(" ") + " ")),
                            "'" + example + "' is an example of " + spec.qualifiedName(" ") + ", not only of " + commandsRun);
                }
            }
        }
        assertTrue(parsed > 40, parsed + " examples parsed");
    }

    @Test
    void examplesAreSplitAsAShellWould() {
        assertEquals(List.of(List.of("generate", "--stop", "a b", "it's")),
                invocations("  jgpt generate --stop \"a b\" 'it'\\''s'   # a comment"));
        assertEquals(List.of(List.of("tokenize", "README.md"), List.of("detokenize")),
                invocations("  jgpt tokenize README.md | jgpt detokenize > out.txt"));
        assertEquals(List.of(List.of("completion", "bash")), invocations("  source <(jgpt completion bash)"));
    }

    /** Example lines, a line ending in a backslash joined with the next, as the shell reads them. */
    private static List<String> examples(String[] lines) {
        List<String> examples = new ArrayList<>();
        StringBuilder pending = new StringBuilder();
        for (String line : lines) {
            if (line.endsWith("\\")) {
                pending.append(line, 0, line.length() - 1);
            } else {
                examples.add(pending.append(line).toString());
                pending.setLength(0);
            }
        }
        return examples;
    }

    /** The root command and every subcommand, nested ones included. */
    static List<CommandLine> commands() {
        List<CommandLine> all = new ArrayList<>();
        collect(Main.commandLine(), all);
        return all;
    }

    private static void collect(CommandLine command, List<CommandLine> all) {
        all.add(command);
        command.getSubcommands().values().forEach(sub -> collect(sub, all));
    }

    private static String description(ArgSpec arg) {
        return String.join(" ", arg.description()).strip();
    }

    private static boolean isFlag(OptionSpec option) {
        return option.arity().max() == 0;
    }

    /**
     * The jgpt invocations in a line of shell, each as the arguments after "jgpt": words split as the shell splits
     * them (single and double quotes, backslashes), a command ending at |, ), ;, a redirection or a comment.
     */
    static List<List<String>> invocations(String line) {
        List<List<String>> invocations = new ArrayList<>();
        List<String> words = new ArrayList<>();
        StringBuilder word = null;
        for (int i = 0; i <= line.length(); i++) {
            char c = i < line.length() ? line.charAt(i) : ' ';
            if (c == '\'' || c == '"') {
                int end = line.indexOf(c, i + 1);
                word = word == null ? new StringBuilder() : word;
                word.append(line, i + 1, end);
                i = end;
            } else if (c == '\\' && i + 1 < line.length()) {
                word = word == null ? new StringBuilder() : word;
                word.append(line.charAt(++i));
            } else if (Character.isWhitespace(c) || "|);<>#(".indexOf(c) >= 0) {
                if (c == '>' && word != null && word.toString().matches("[0-9&]")) word = null; // 2> file
                if (word != null) words.add(word.toString());
                word = null;
                if (c == '#' || "|);<>".indexOf(c) >= 0) words.add(String.valueOf(c));
                if (c == '#') break;
            } else {
                word = word == null ? new StringBuilder() : word;
                word.append(c);
            }
        }
        List<String> current = null;
        for (String w : words) {
            if (current == null) {
                if (w.equals("jgpt") || w.equals("./jgpt")) current = new ArrayList<>();
            } else if (w.length() == 1 && "|);<>#".contains(w)) {
                invocations.add(current);
                current = null;
            } else {
                current.add(w);
            }
        }
        if (current != null) invocations.add(current);
        return invocations;
    }
}
