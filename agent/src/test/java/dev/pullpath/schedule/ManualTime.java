package dev.pullpath.schedule;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.PriorityQueue;

/** A clock and a timer that move only when the test says: the scheduler's seams, for deterministic tests. */
final class ManualTime extends Clock implements SchedulerTimer {
    private record Task(Instant at, long order, Runnable run, boolean[] cancelled) {
    }

    private final PriorityQueue<Task> queue = new PriorityQueue<>((a, b) -> a.at.equals(b.at)
            ? Long.compare(a.order, b.order) : a.at.compareTo(b.at));
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");
    private long order;

    @Override
    public Instant instant() {
        return now;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public Scheduled schedule(Duration delay, Runnable task) {
        boolean[] cancelled = new boolean[1];
        queue.add(new Task(now.plus(delay.isNegative() ? Duration.ZERO : delay), order++, task, cancelled));
        return () -> cancelled[0] = true;
    }

    /** Runs what falls due within {@code d}, in order. */
    void advance(Duration d) {
        Instant until = now.plus(d);
        while (!queue.isEmpty() && !queue.peek().at.isAfter(until)) {
            Task t = queue.poll();
            now = t.at;
            if (!t.cancelled[0]) {
                t.run.run();
            }
        }
        now = until;
    }

    @Override
    public void close() {
        queue.clear();
    }
}
