package dev.pullpath.schedule;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * How the scheduler waits: a daemon thread of the JVM for the agent, a virtual clock for the fleet simulation
 * ({@code bench/fleet-sim.sh}), which runs thousands of schedulers through days in seconds. A seam, so the simulation
 * drives the very scheduler the agent runs instead of a copy of it.
 */
public interface SchedulerTimer extends AutoCloseable {

    /** A task waiting for its time. */
    interface Scheduled {
        void cancel();
    }

    /** Runs {@code task} once, after {@code delay} (zero or negative: as soon as possible). */
    Scheduled schedule(Duration delay, Runnable task);

    /** Drops every waiting task; nothing runs afterwards. */
    @Override
    void close();

    /** The agent's timer: one daemon thread named {@code name}. */
    static SchedulerTimer system(String name) {
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        return new SchedulerTimer() {
            @Override
            public Scheduled schedule(Duration delay, Runnable task) {
                ScheduledFuture<?> f = executor.schedule(task, Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS);
                return () -> f.cancel(false);
            }

            @Override
            public void close() {
                executor.shutdownNow();
            }
        };
    }
}
