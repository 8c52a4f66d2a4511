package org.jgpt.cli;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

/**
 * What the standard streams are connected to, and the one piece of stream plumbing the launcher needs. Java cannot
 * tell a terminal from a file (since JDK 22 {@code System.console()} exists either way), so this asks libc's isatty.
 */
final class Terminal {
    private static final int STDIN = 0, STDOUT = 1, STDERR = 2;

    private Terminal() {}

    /** Whether stderr is a terminal: progress is then drawn as bars, otherwise written as plain lines. */
    static boolean stderrIsTerminal() {
        return isatty(STDERR);
    }

    /** Whether stdin is a terminal, where a person types: only then is there a prompt to show. */
    static boolean stdinIsTerminal() {
        return isatty(STDIN);
    }

    /** Whether stdout is a terminal, for the help's colours. */
    static boolean stdoutIsTerminal() {
        return isatty(STDOUT);
    }

    /** Colour on a terminal only, and never with NO_COLOR set (no-color.org) or TERM=dumb. */
    static boolean colour(boolean terminal) {
        String noColor = System.getenv("NO_COLOR");
        return terminal && (noColor == null || noColor.isEmpty()) && !"dumb".equals(System.getenv("TERM"));
    }

    /**
     * The launcher starts the JVM with stderr through a filter that drops the JVM's incubator-module warning, and
     * passes the original stderr as the descriptor named by {@code -Djgpt.stderr.fd}: from here on stderr is that one
     * again, so that nothing else passes the filter (no reordering, nothing printed after the process ends).
     */
    static void restoreStderr() {
        String fd = System.getProperty("jgpt.stderr.fd");
        if (fd == null) return;
        try {
            int original = Integer.parseInt(fd);
            MethodHandle dup2 = function("dup2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
            MethodHandle close = function("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
            if ((int) dup2.invokeExact(original, STDERR) == STDERR) close.invoke(original);
        } catch (Throwable e) {
            // stderr then stays on the filter, which passes everything but the warning through
        }
    }

    private static boolean isatty(int fd) {
        try {
            return (int) function("isatty", FunctionDescriptor.of(JAVA_INT, JAVA_INT)).invokeExact(fd) == 1;
        } catch (Throwable e) {
            return false;
        }
    }

    private static MethodHandle function(String name, FunctionDescriptor descriptor) {
        Linker linker = Linker.nativeLinker();
        return linker.downcallHandle(linker.defaultLookup().find(name).orElseThrow(), descriptor);
    }
}
