package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Warmup and decay, against values worked out by hand from nanoGPT's get_lr formula. */
class LearningRateScheduleTest {
    private static final double EPS = 1e-12;

    @Test
    void cosineAfterLinearWarmup() {
        var schedule = new LearningRateSchedule(6e-4, 6e-5, 10, 110, LearningRateSchedule.Decay.COSINE);
        assertEquals(6e-5, schedule.at(0), EPS);          // (0 + 1) / 10 of the peak
        assertEquals(6e-4, schedule.at(9), EPS);          // warmup ends at the peak
        assertEquals(6e-4, schedule.at(10), EPS);         // cosine starts at the peak
        assertEquals(3.3e-4, schedule.at(60), EPS);       // half way: (max + min) / 2
        assertEquals(6e-5 + 0.5 * (1 + Math.cos(Math.PI * 0.25)) * 5.4e-4, schedule.at(35), EPS);
        assertEquals(6e-5, schedule.at(110), EPS);        // the floor from the last step on
        assertEquals(6e-5, schedule.at(500), EPS);
    }

    @Test
    void linearDecayAsInGpt1FineTuning() {
        var schedule = new LearningRateSchedule(6.25e-5, 0, 2, 12, LearningRateSchedule.Decay.LINEAR);
        assertEquals(3.125e-5, schedule.at(0), EPS);
        assertEquals(6.25e-5, schedule.at(2), EPS);
        assertEquals(3.125e-5, schedule.at(7), EPS);
        assertEquals(0, schedule.at(12), EPS);
    }
}
