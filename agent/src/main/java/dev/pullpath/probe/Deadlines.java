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
 * {@code orTimeout} is not used either: its JDK timer thread, once started, never exits.
 */
public final class Deadlines {
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
        bound(bounded, millis, RequestPace.NONE, onTimeout);
    }

    /**
     * ... {@code millis} of the walk's own time: the pauses of its request {@code pace} while the hop runs do not
     * count, so a paced hop has the same bound as an unpaced one.
     */
    static <T> void bound(CompletableFuture<T> bounded, long millis, RequestPace pace, Supplier<T> onTimeout) {
        new PausingTimer(bounded, pace, () -> bounded.complete(onTimeout.get())).arm(millis * 1_000_000L);
    }

    /** Fails {@code bounded} with {@code error}'s exception unless it has completed within {@code millis}. */
    private static <T> void failAfter(CompletableFuture<T> bounded, long millis, Supplier<? extends Throwable> error) {
        new PausingTimer(bounded, RequestPace.NONE, () -> bounded.completeExceptionally(error.get()))
                .arm(millis * 1_000_000L);
    }

    /**
     * {@code work}'s outcome, or a {@code TimeoutException} naming {@code what} unless it ends within {@code millis}:
     * {@code CompletableFuture.orTimeout} on this class's timer (work itself is left to end on its own).
     */
    public static <T> CompletableFuture<T> within(CompletableFuture<T> work, long millis, String what) {
        CompletableFuture<T> bounded = new CompletableFuture<>();
        failAfter(bounded, millis, () -> new java.util.concurrent.TimeoutException(what + " did not end within "
                + millis + "ms"));
        work.whenComplete((r, e) -> {
            if (e != null) {
                bounded.completeExceptionally(e);
            } else {
                bounded.complete(r);
            }
        });
        return bounded;
    }

    /** A deadline that, when it falls, moves itself later by the pauses taken since it was set, until none were. */
    private static final class PausingTimer {
        private final CompletableFuture<?> bounded;
        private final RequestPace pace;
        private final Runnable expire;
        private long pausedCounted;
        private volatile ScheduledFuture<?> timer;

        PausingTimer(CompletableFuture<?> bounded, RequestPace pace, Runnable expire) {
            this.bounded = bounded;
            this.pace = pace;
            this.expire = expire;
            this.pausedCounted = pace.pausedNanos();
            bounded.whenComplete((v, e) -> {
                ScheduledFuture<?> t = timer;
                if (t != null) {
                    t.cancel(false);
                }
            });
        }

        void arm(long nanos) {
            if (bounded.isDone()) {
                return;
            }
            timer = TIMER.schedule(this::fall, nanos, TimeUnit.NANOSECONDS);
            if (bounded.isDone()) {
                timer.cancel(false); // completed while the timer was being set
            }
        }

        private void fall() {
            long paused = pace.pausedNanos();
            long more = paused - pausedCounted;
            pausedCounted = paused;
            if (more > 0) {
                arm(more);
            } else {
                expire.run();
            }
        }
    }
}
