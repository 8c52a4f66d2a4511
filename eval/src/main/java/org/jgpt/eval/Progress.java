package org.jgpt.eval;

/** Where long evaluations report how far they are (the CLI draws a progress bar; tests pass {@link #NONE}). */
public interface Progress {
    Progress NONE = new Progress() {
        @Override
        public void start(String what, long total) {}

        @Override
        public void step(long amount) {}
    };

    /** A new phase of {@code total} units (examples, bytes). */
    void start(String what, long total);

    void step(long amount);
}
