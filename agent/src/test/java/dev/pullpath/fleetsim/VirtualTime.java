package dev.pullpath.fleetsim;

import dev.pullpath.schedule.SchedulerTimer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.PriorityQueue;

/**
 * A virtual clock and the one queue of every simulated agent's timers: time jumps from one task to the next, so
 * thousands of schedulers run through days in seconds, one thread, reproducibly (ties run in the order they were
 * scheduled). The scheduler's own tests drive one scheduler on it the same way.
 */
public final class VirtualTime extends Clock {
    static final Instant EPOCH = Instant.parse("2026-01-01T00:00:00Z");

    private record Task(long atNanos, long order, Runnable run, boolean[] cancelled) implements Comparable<Task> {
        @Override
        public int compareTo(Task o) {
            int c = Long.compare(atNanos, o.atNanos);
            return c != 0 ? c : Long.compare(order, o.order);
        }
    }

    private final PriorityQueue<Task> queue = new PriorityQueue<>();
    private long nowNanos;
    private long order;
    private long ran;

    /** Nanoseconds since {@link #EPOCH}. */
    long nanos() {
        return nowNanos;
    }

    long tasksRun() {
        return ran;
    }

    @Override
    public Instant instant() {
        return EPOCH.plusNanos(nowNanos);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    /** Runs {@code task} at {@code atNanos} (never in the past). */
    SchedulerTimer.Scheduled at(long atNanos, Runnable task) {
        boolean[] cancelled = new boolean[1];
        queue.add(new Task(Math.max(atNanos, nowNanos), order++, task, cancelled));
        return () -> cancelled[0] = true;
    }

    /** Runs every task due up to {@code untilNanos}, then stands there. */
    void runUntil(long untilNanos) {
        while (!queue.isEmpty() && queue.peek().atNanos <= untilNanos) {
            Task t = queue.poll();
            nowNanos = t.atNanos;
            if (!t.cancelled[0]) {
                ran++;
                t.run.run();
            }
        }
        nowNanos = Math.max(nowNanos, untilNanos);
    }

    /** Runs what falls due within {@code d}, in order, then stands at its end. */
    public void advance(Duration d) {
        runUntil(nowNanos + d.toNanos());
    }

    /** One agent's timer on the shared queue; closing it drops its tasks. */
    public SchedulerTimer timer() {
        boolean[] closed = new boolean[1];
        return new SchedulerTimer() {
            @Override
            public Scheduled schedule(Duration delay, Runnable task) {
                return at(nowNanos + Math.max(0, delay.toNanos()), () -> {
                    if (!closed[0]) {
                        task.run();
                    }
                });
            }

            @Override
            public void close() {
                closed[0] = true;
            }
        };
    }
}
