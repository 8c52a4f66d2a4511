package org.jgpt.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarConsumer;

/** Progress bars go to stderr, so that stdout carries only results. */
final class ProgressBars {
    private ProgressBars() {}

    static ProgressBarConsumer stderr() {
        return new ConsoleProgressBarConsumer(System.err);
    }
}
