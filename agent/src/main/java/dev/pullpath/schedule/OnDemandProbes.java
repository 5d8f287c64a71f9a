package dev.pullpath.schedule;

import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.TargetConfig;
import dev.pullpath.config.TargetKind;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.probe.Deadlines;
import dev.pullpath.probe.PathProber;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;

/**
 * The scheduler's probes outside the schedule, for {@code /probe}: at most one per target per {@code onDemandSpacing}
 * (a caller in a loop gets the latest result), at most as many at once as the concurrency limit.
 */
final class OnDemandProbes {
    private record Recent(Instant at, CompletableFuture<TargetReport> result) {
    }

    private final Clock clock;
    private final Map<String, Recent> results = new ConcurrentHashMap<>();
    private volatile Semaphore permits = new Semaphore(1);

    OnDemandProbes(Clock clock) {
        this.clock = clock;
    }

    /** The concurrency limit from now on (maxConcurrentProbes). */
    void limit(int concurrent) {
        permits = new Semaphore(concurrent);
    }

    /**
     * Probes {@code target} now. The registry hops are never run on demand: a configured target's cheap hops run now
     * and its registry state is the scheduler's (its interval and its 429 backoff hold whoever calls /probe); an
     * unconfigured one gets the whole path. Null when as many on-demand probes as the limit are already running.
     *
     * @param lastFull for a configured target, its last registry check as the scheduler has it (read when the probe
     *                 starts and when it ends); null for a target that is not configured
     */
    CompletableFuture<TargetReport> probe(TargetConfig target, Duration spacing, Prober prober, ProbeOptions options,
                                          Supplier<TargetReport> lastFull) {
        Recent recent = results.get(target.name());
        if (recent != null && Duration.between(recent.at, clock.instant()).compareTo(spacing) < 0) {
            return recent.result;
        }
        Semaphore held = permits;
        if (!held.tryAcquire()) {
            return null;
        }
        boolean configured = lastFull != null;
        CompletableFuture<TargetReport> result;
        try {
            // Never a traceroute on demand: a scraper calling /probe in a loop must not make this node send ICMP-
            // provoking SYNs at its pace; the schedule's own probes trace, rationed.
            result = Deadlines.within(prober.probe(target.target(), options.withTraceroute(false),
                            OnDemandDepth.of(target, configured, configured ? lastFull.get() : null), null),
                            PathProber.maxBound(options).toMillis(), "the probe")
                    .thenApply(r -> configured && target.kind() == TargetKind.REGISTRY
                            ? r.withRegistryHopsOf(lastFull.get()) : r);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        result.whenComplete((r, e) -> held.release());
        if (results.size() > 1_000) {
            results.clear(); // unconfigured names are caller-chosen: keep the map bounded
        }
        results.put(target.name(), new Recent(clock.instant(), result));
        return result;
    }
}
