package dev.pullpath.schedule;

import java.util.ArrayDeque;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * At most {@code limit} scheduled probes at once ({@code maxConcurrentProbes}, read at each decision so that a
 * reload applies at once); the others wait their turn in the order they came, never dropped, so that a slow target
 * delays the rest rather than piling up probes. A probe cancelled while waiting is skipped when its turn comes.
 */
final class Admission {
    /** A probe to run when admitted. */
    interface Probe {
        boolean cancelled();

        void run();
    }

    private final IntSupplier limit;
    private final BooleanSupplier closed;
    private final ArrayDeque<Probe> waiting = new ArrayDeque<>();
    private int inFlight;

    Admission(IntSupplier limit, BooleanSupplier closed) {
        this.limit = limit;
        this.closed = closed;
    }

    /** Runs {@code probe} now if a place is free, else queues it. */
    void admit(Probe probe) {
        synchronized (this) {
            if (closed.getAsBoolean() || probe.cancelled()) {
                return;
            }
            if (inFlight >= limit.getAsInt()) {
                waiting.add(probe);
                return;
            }
            inFlight++;
        }
        probe.run();
    }

    /** A probe admitted earlier has finished: its place goes to the next waiting. */
    void finished() {
        synchronized (this) {
            inFlight--;
        }
        drain();
    }

    /** Runs waiting probes while places are free (after a finish, or a reload that raised the limit). */
    void drain() {
        while (true) {
            Probe next;
            synchronized (this) {
                if (closed.getAsBoolean() || inFlight >= limit.getAsInt() || waiting.isEmpty()) {
                    return;
                }
                next = waiting.poll();
                if (next.cancelled()) {
                    continue;
                }
                inFlight++;
            }
            next.run();
        }
    }
}
