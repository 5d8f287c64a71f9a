package dev.pullpath.schedule;

import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.probe.Depth;
import dev.pullpath.probe.ManifestProbe;
import dev.pullpath.probe.PathProber;
import java.util.concurrent.CompletableFuture;

/**
 * What the scheduler asks to walk a path: {@link PathProber} in the agent, a stub that records the registry requests a
 * walk would send in the fleet simulation. The scheduler needs nothing else of a prober.
 */
@FunctionalInterface
public interface Prober {
    /** Walks {@code target}'s path to {@code depth}; with {@code image}, its manifest and layer hops too. */
    CompletableFuture<TargetReport> probe(Target target, ProbeOptions options, Depth depth, ManifestProbe.Image image);

    static Prober of(PathProber prober) {
        return prober::probe;
    }
}
