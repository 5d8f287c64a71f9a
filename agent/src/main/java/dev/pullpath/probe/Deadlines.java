package dev.pullpath.probe;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The bound on a hop as a whole (the token, the login, the layer hop). {@code CompletableFuture.delayedExecutor}
 * did this before, but its timer is never cancelled: every probe left a task that fired 10 s later and woke a
 * common-pool thread to run it, so the pool's workers never went idle at a cadence of seconds (bench/cadence.sh).
 * Here the deadline is cancelled as soon as the work ends, and the one timer thread exits when nothing is pending.
 */
final class Deadlines {
    private static final ScheduledThreadPoolExecutor TIMER = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "pullpath-deadline");
        t.setDaemon(true);
        return t;
    });

    static {
        TIMER.setRemoveOnCancelPolicy(true);
        TIMER.setKeepAliveTime(5, TimeUnit.SECONDS);
        TIMER.allowCoreThreadTimeOut(true);
    }

    private Deadlines() {
    }

    /**
     * Completes {@code bounded} with {@code onTimeout}'s value unless it has completed within {@code millis}; the
     * timer is cancelled when {@code bounded} completes.
     */
    static <T> void bound(CompletableFuture<T> bounded, long millis, Supplier<T> onTimeout) {
        ScheduledFuture<?> timer = TIMER.schedule(() -> {
            bounded.complete(onTimeout.get());
        }, millis, TimeUnit.MILLISECONDS);
        bounded.whenComplete((v, e) -> timer.cancel(false));
    }
}
