package dev.pullpath.schedule;

import dev.pullpath.config.TargetConfig;
import dev.pullpath.diagnosis.TargetReport;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The latest status of every configured target. The scheduler writes it; {@code /status}, the status page, the
 * metrics and the logs read it or listen to it, so they always show the same diagnosis.
 */
public final class StatusBoard {

    /** Told of every probe: the raw report of what ran, and the status it led to. */
    public interface Listener {
        void onProbe(TargetConfig target, TargetReport probed, TargetStatus previous, TargetStatus current);

        default void onRemoved(String target) {
        }
    }

    private final Map<String, TargetStatus> statuses = new ConcurrentHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final Clock clock;

    public StatusBoard(Clock clock) {
        this.clock = clock;
    }

    /**
     * Adds a listener and hands it every target's current status as a first probe ({@code previous} null): one that
     * joins after probing began (the Kubernetes reporter, whose client takes longer to make than a first probe)
     * would otherwise never hear of a state that has not changed since, e.g. a target failing from the start.
     */
    public void listen(Listener listener) {
        listeners.add(listener);
        for (TargetStatus s : statuses.values()) {
            listener.onProbe(s.config(), s.report(), null, s);
        }
    }

    /** Records a probe's outcome; {@code status} is what it means for the target (the merged view). */
    void record(TargetConfig target, TargetReport probed, TargetReport status) {
        Instant now = clock.instant();
        TargetStatus[] pair = new TargetStatus[2];
        statuses.compute(target.name(), (name, old) -> {
            boolean same = old != null && Objects.equals(old.report().category(), status.category())
                    && Objects.equals(old.report().reason(), status.reason());
            pair[0] = old;
            pair[1] = new TargetStatus(target, status, same ? old.since() : now, old == null ? 1 : old.probes() + 1);
            return pair[1];
        });
        for (Listener l : listeners) {
            l.onProbe(target, probed, pair[0], pair[1]);
        }
    }

    void remove(String name) {
        if (statuses.remove(name) != null) {
            for (Listener l : listeners) {
                l.onRemoved(name);
            }
        }
    }

    public TargetStatus get(String name) {
        return statuses.get(name);
    }

    /** In the configured order when {@code order} is given. */
    public List<TargetStatus> all(Collection<TargetConfig> order) {
        List<TargetStatus> out = new ArrayList<>();
        for (TargetConfig t : order) {
            TargetStatus s = statuses.get(t.name());
            if (s != null) {
                out.add(s);
            }
        }
        return out;
    }
}
