package org.jgpt.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jgpt completion bash|zsh}: the shell completion script picocli generates from the commands themselves. */
@Command(name = "completion", mixinStandardHelpOptions = true,
        header = "Print a shell completion script for bash or zsh.",
        description = {"Prints a script that completes jgpt's commands, options and their values (files, directories,"
                + " task names) when sourced. zsh runs the same script through its bash compatibility (bashcompinit),"
                + " which the script loads itself. It completes the command 'jgpt'; put the launcher on your PATH (e.g."
                + " a link to it in ~/.local/bin) or add an alias."},
        footerHeading = "%nExamples:%n",
        footer = {"  source <(jgpt completion bash)     # in ~/.bashrc",
                "  jgpt completion zsh > ~/.jgpt.zsh  # then 'source ~/.jgpt.zsh' in ~/.zshrc"})
final class CompletionCommand implements Callable<Integer> {
    enum Shell { bash, zsh }

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "SHELL", description = "bash or zsh.")
    Shell shell;

    @Override
    public Integer call() {
        spec.commandLine().getOut().print(AutoComplete.bash("jgpt", spec.root().commandLine()));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
