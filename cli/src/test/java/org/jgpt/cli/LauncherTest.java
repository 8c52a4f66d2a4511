package org.jgpt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code jgpt} launcher as a user runs it, with stdout and stderr redirected to files: no JVM warning, no
 * progress bar redrawn with carriage returns, results on stdout only. It runs the classes Maven compiled
 * (JGPT_CLASSPATH), so that the test does not build the jar.
 */
class LauncherTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    record Run(int exitCode, String out, String err) {}

    private Run jgpt(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("jgpt").toString()));
        command.addAll(List.of(args));
        File out = tmp.resolve("stdout.txt").toFile(), err = tmp.resolve("stderr.txt").toFile();
        ProcessBuilder builder = new ProcessBuilder(command).directory(ROOT.toFile())
                .redirectOutput(out).redirectError(err).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        builder.environment().put("JGPT_CLASSPATH", classpath);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("NO_COLOR");
        Process process = builder.start();
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "jgpt " + String.join(" ", args) + " finished");
        return new Run(process.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8),
                Files.readString(err.toPath(), StandardCharsets.UTF_8));
    }

    @Test
    void versionPrintsNothingOnStderr() throws Exception {
        Run run = jgpt("--version");
        assertEquals(0, run.exitCode());
        assertEquals("jgpt 0.1.0\n", run.out());
        assertEquals("", run.err(), "no JVM warning");
    }

    @Test
    void anErrorIsOneLineOnStderr() throws Exception {
        Run run = jgpt("generate", "--model", tmp.resolve("missing").toString(), "Hello");
        assertEquals(1, run.exitCode());
        assertEquals("", run.out());
        assertEquals("jgpt: model directory " + tmp.resolve("missing") + " does not exist\n", run.err());
    }

    @Test
    void progressToAFileIsPlainLinesWithoutWarningOrCarriageReturns() throws Exception {
        Path corpus = Files.createDirectories(tmp.resolve("corpus"));
        for (int i = 0; i < 20; i++) {
            Files.writeString(corpus.resolve("doc" + (100 + i) + ".txt"), ("Document " + i + " of the corpus. ").repeat(2000));
        }
        Run run = jgpt("prepare", "--out", tmp.resolve("data").toString(), corpus.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertFalse(run.err().contains("WARNING"), run.err());
        assertFalse(run.err().contains("\r"), "no carriage-return bar: " + run.err());
        assertFalse(run.err().contains("\u001b["), "no colour off a terminal: " + run.err());
        assertTrue(run.err().lines().anyMatch(line -> line.matches("prepare: \\d0% \\(.* of .* MB\\)")), run.err());
        assertTrue(run.err().lines().anyMatch(line -> line.startsWith("prepare: done, ")), run.err());
        assertTrue(run.out().startsWith(tmp.resolve("data") + ": 19 train documents"), run.out());
    }

    @Test
    void bashCompletesCommandsAndOptions() throws Exception {
        Run script = jgpt("completion", "bash");
        assertEquals(0, script.exitCode(), script.err());
        Path file = Files.writeString(tmp.resolve("jgpt-completion.bash"), script.out());
        String complete = "source " + file + "; complete_line() { COMP_LINE=\"$1\"; read -ra COMP_WORDS <<< \"$1\";"
                + " [[ \"$1\" == *' ' ]] && COMP_WORDS+=(''); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));"
                + " COMP_POINT=${#COMP_LINE}; _complete_jgpt 2>/dev/null; echo \"${COMPREPLY[*]}\"; };"
                + " complete_line 'jgpt tra'; complete_line 'jgpt train --n-l'; complete_line 'jgpt completion '";
        Process bash = new ProcessBuilder("bash", "-c", complete).redirectErrorStream(true).start();
        String completions = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, bash.waitFor());
        assertEquals("train\n--n-layer\nbash zsh\n", completions);
    }
}
