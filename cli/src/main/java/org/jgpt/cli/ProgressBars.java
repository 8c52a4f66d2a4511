package org.jgpt.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import org.jgpt.eval.Progress;

/**
 * Progress bars go to stderr, so that stdout carries only results. An instance draws an evaluation's
 * {@link Progress}, one bar per phase.
 */
final class ProgressBars implements Progress, AutoCloseable {
    private final boolean bytes;
    private ProgressBar bar;

    /** The console consumer every progress bar of the CLI writes to: stderr. */
    static ConsoleProgressBarConsumer stderr() {
        return new ConsoleProgressBarConsumer(System.err);
    }

    /** @param bytes whether the units are bytes (shown in MB, with the speed) rather than examples */
    ProgressBars(boolean bytes) {
        this.bytes = bytes;
    }

    @Override
    public void start(String what, long total) {
        close();
        ProgressBarBuilder builder = new ProgressBarBuilder().setTaskName(what).setInitialMax(total)
                .setConsumer(stderr()).setUpdateIntervalMillis(250);
        if (bytes) builder.setUnit(" MB", 1_000_000).showSpeed();
        bar = builder.build();
    }

    @Override
    public void step(long amount) {
        if (bar != null) bar.stepBy(amount);
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
