package org.jgpt.cli;

import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.jgpt.eval.Progress;

/**
 * Progress on stderr, so that stdout carries only results: a bar per phase on a terminal (coloured unless NO_COLOR
 * is set), and plain lines otherwise, one each tenth of the way and one at the end, so that a log file reads as
 * lines rather than as a bar redrawn over itself.
 */
final class ProgressBars implements Progress, AutoCloseable {
    private final boolean bytes;
    private final boolean terminal;
    private final PrintStream err = System.err;
    private ProgressBar bar;
    private String what;
    private long total;
    private long done;
    private int tenthsReported;
    private long startNanos;

    /** @param bytes whether the units are bytes (shown in MB, with the speed) rather than examples or tokens */
    ProgressBars(boolean bytes) {
        this(bytes, Terminal.stderrIsTerminal());
    }

    ProgressBars(boolean bytes, boolean terminal) {
        this.bytes = bytes;
        this.terminal = terminal;
    }

    @Override
    public void start(String what, long total) {
        close();
        this.what = what;
        this.total = total;
        this.done = 0;
        this.tenthsReported = 0;
        this.startNanos = System.nanoTime();
        if (terminal) {
            ProgressBarBuilder builder = new ProgressBarBuilder().setTaskName(what).setInitialMax(total)
                    .setStyle(Terminal.colour(true) ? ProgressBarStyle.COLORFUL_UNICODE_BLOCK : ProgressBarStyle.ASCII)
                    .setConsumer(new ConsoleProgressBarConsumer(err)).setUpdateIntervalMillis(250);
            if (bytes) builder.setUnit(" MB", 1_000_000).showSpeed();
            bar = builder.build();
        }
    }

    @Override
    public void step(long amount) {
        stepTo(done + amount);
    }

    /** Sets how far the phase is. */
    void stepTo(long position) {
        done = position;
        if (bar != null) {
            bar.stepTo(position);
        } else if (what != null && total > 0) {
            int tenths = (int) Math.min(9, 10 * done / total);
            if (tenths > tenthsReported) {
                tenthsReported = tenths;
                err.printf(Locale.ROOT, "%s: %d%% (%s of %s)%n", what, 10 * tenths, amount(done), amount(total));
            }
        }
    }

    /** Changes the phase's total, for work whose size is learnt as it goes. */
    void maxHint(long newTotal) {
        total = newTotal;
        if (bar != null) bar.maxHint(newTotal);
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        } else if (what != null) {
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            err.printf(Locale.ROOT, "%s: done, %s in %.1f s%n", what, amount(done), seconds);
        }
        what = null;
    }

    private String amount(long units) {
        return bytes ? String.format(Locale.ROOT, "%.1f MB", units / 1e6) : String.format(Locale.ROOT, "%,d", units);
    }
}
