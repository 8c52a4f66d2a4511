package org.jgpt.train;

/**
 * The learning rate at each step: linear warmup from 0 to {@code maxLr} over {@code warmupSteps}, then cosine (as
 * GPT-2 and nanoGPT) or linear (as GPT-1's fine-tuning) decay to {@code minLr} at {@code totalSteps}.
 */
public record LearningRateSchedule(double maxLr, double minLr, int warmupSteps, int totalSteps, Decay decay) {
    public enum Decay { COSINE, LINEAR }

    public LearningRateSchedule {
        if (maxLr < 0 || minLr < 0 || warmupSteps < 0 || totalSteps <= 0) {
            throw new IllegalArgumentException("bad learning-rate schedule: " + maxLr + ", " + minLr + ", " + warmupSteps + ", " + totalSteps);
        }
    }

    /** The rate for 0-based {@code step}. */
    public double at(int step) {
        if (step < warmupSteps) return maxLr * (step + 1) / warmupSteps;
        if (step >= totalSteps) return minLr;
        double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        double factor = decay == Decay.COSINE ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
        return minLr + factor * (maxLr - minLr);
    }
}
