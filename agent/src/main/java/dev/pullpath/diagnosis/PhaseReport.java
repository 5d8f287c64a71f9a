package dev.pullpath.diagnosis;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** One hop as it happened: how long it took and what was seen. */
@JsonPropertyOrder({"phase", "ok", "durationMs", "detail"})
public record PhaseReport(Phase phase, boolean ok, double durationMs, String detail) {

    public static PhaseReport of(Phase phase, boolean ok, long startNanos, String detail) {
        return new PhaseReport(phase, ok, millisSince(startNanos), detail);
    }

    /** Milliseconds since {@code startNanos} ({@link System#nanoTime()}), rounded to microseconds. */
    public static double millisSince(long startNanos) {
        return Math.round((System.nanoTime() - startNanos) / 1_000.0) / 1_000.0;
    }

    @JsonIgnore
    public double durationSeconds() {
        return durationMs / 1_000.0;
    }
}
