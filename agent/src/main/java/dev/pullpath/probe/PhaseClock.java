package dev.pullpath.probe;

/**
 * When a registry hop started, on a clock that stands still while the walk waits for its {@link RequestPace}: a
 * hop whose requests were paced reports the time its requests took, not the pauses between them, so its duration
 * (and every metric and alert built on it) means what it means on an unpaced walk.
 */
final class PhaseClock {
    private final long startNanos = System.nanoTime();
    private final RequestPace pace;
    private final long pausedAtStart;

    private PhaseClock(RequestPace pace) {
        this.pace = pace;
        this.pausedAtStart = pace.pausedNanos();
    }

    /** Now, for a hop of the walk {@code dialer} paces. */
    static PhaseClock start(Dialer dialer) {
        return new PhaseClock(dialer.pace());
    }

    /** The start moved later by the pauses since: what {@code PhaseReport} measures a duration from. */
    long nanos() {
        return startNanos + (pace.pausedNanos() - pausedAtStart);
    }
}
