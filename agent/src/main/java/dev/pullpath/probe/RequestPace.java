package dev.pullpath.probe;

import io.netty.util.concurrent.EventExecutorGroup;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The least time between the starts of two requests of one walk to the hosts of a registry's path (the registry,
 * its token realm, the layer host it redirects to): none, unless the daemon's fleet cadence asks for one, so that
 * one check puts at most two requests in any 10 s however many it sends (a fleet's budget of 0.1 requests/s allows
 * two per 10 s). A request waits for its turn before it picks its connection: a connection the server closed while
 * the walk paused is noticed then and another is dialed, as Go's client retries an idempotent request on a fresh
 * connection. The pauses are in no phase's time and no hop's deadline ({@link PhaseClock}, {@link Deadlines}).
 */
final class RequestPace {
    /** No pace: every request goes at once (a fleet of one, diagnose, /probe, tests). */
    static final RequestPace NONE = new RequestPace(0, null);
    private static final CompletableFuture<Void> NOW = CompletableFuture.completedFuture(null);

    private final long paceNanos;
    private final EventExecutorGroup timers;
    private boolean started;
    /** When the next request may start. */
    private long nextNanos;
    /** The pauses taken or begun so far, and when the last one ends. */
    private long reservedNanos;
    private long lastPauseEndsNanos;

    /**
     * @param paceNanos the least time between two request starts (0: none)
     * @param timers    where a pause ends (the walk's event loops: the request goes on from there)
     */
    RequestPace(long paceNanos, EventExecutorGroup timers) {
        this.paceNanos = Math.max(0, paceNanos);
        this.timers = timers;
    }

    static RequestPace of(java.time.Duration pace, EventExecutorGroup timers) {
        return pace.isZero() ? NONE : new RequestPace(pace.toNanos(), timers);
    }

    /** Completes when the walk's next request may start: at once for the first, then one pace after the last. */
    CompletableFuture<Void> turn() {
        if (paceNanos == 0) {
            return NOW;
        }
        long delay;
        synchronized (this) {
            long now = System.nanoTime();
            long at = started && nextNanos - now > 0 ? nextNanos : now;
            started = true;
            nextNanos = at + paceNanos;
            delay = at - now;
            reservedNanos += delay;
            lastPauseEndsNanos = at;
        }
        if (delay <= 0) {
            return NOW;
        }
        CompletableFuture<Void> turn = new CompletableFuture<>();
        try {
            timers.schedule(() -> turn.complete(null), delay, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            turn.completeExceptionally(e); // the prober is closing
        }
        return turn;
    }

    /** The time this walk has spent paused so far (a pause under way counts up to now). */
    synchronized long pausedNanos() {
        if (paceNanos == 0) {
            return 0;
        }
        return reservedNanos - Math.max(0, lastPauseEndsNanos - System.nanoTime());
    }
}
