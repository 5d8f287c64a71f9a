package dev.pullpath.fleetsim;

import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Evidence;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.probe.Depth;
import dev.pullpath.probe.ManifestProbe;
import dev.pullpath.schedule.Prober;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One simulated node's prober: no network. A probe of the cheap hops sends the registry nothing; a registry check
 * records the requests the real walk sends to the registry's address (and the layer host's), as seen from the node's
 * NAT address, hop by hop as {@code RegistryExchange} sends them: {@code GET /v2/}; the token and {@code /v2/} with
 * it; with an image, the manifest HEAD, its token and the HEAD again; the manifest GETs (index, platform), the blob
 * GET and the layer host's GET. Each request starts {@link #GAP_MILLIS} after the one before, or the options' registry
 * pace after it when that is longer (the scheduler's, as {@code RequestPace} holds the real walk's requests). While
 * the registry rate-limits, the first {@code GET /v2/} is answered 429 and the check ends there.
 */
final class StubRegistry implements Prober {
    /** Between two requests of one check: a round trip to a CDN edge and back. */
    static final long GAP_MILLIS = 100;
    static final int WITHOUT_IMAGE = 3;
    static final int WITH_IMAGE = 10;

    private static final PhaseReport DNS = new PhaseReport(Phase.DNS, true, 1, "stub");
    private static final PhaseReport CONNECT = new PhaseReport(Phase.CONNECT, true, 1, "stub");
    private static final PhaseReport TLS = new PhaseReport(Phase.TLS, true, 1, "stub");
    private static final PhaseReport HTTP = new PhaseReport(Phase.HTTP, true, 1, "stub");
    private static final PhaseReport LIMITED = new PhaseReport(Phase.HTTP, false, 1, "stub: 429");

    /** Whether the registry answers 429 now: the scenario's storm. */
    interface Weather {
        boolean rateLimiting(long nowMillis);
    }

    private final VirtualTime time;
    private final RequestLog log;
    private final Weather weather;

    StubRegistry(VirtualTime time, RequestLog log, Weather weather) {
        this.time = time;
        this.log = log;
        this.weather = weather;
    }

    @Override
    public CompletableFuture<TargetReport> probe(Target target, ProbeOptions options, Depth depth,
                                                 ManifestProbe.Image image) {
        long now = time.nanos() / 1_000_000;
        if (depth != Depth.REGISTRY && depth != Depth.HTTP) {
            return CompletableFuture.completedFuture(report(target, Diagnosis.OK, List.of(DNS, CONNECT, TLS), null));
        }
        if (weather.rateLimiting(now)) {
            log.add(now);
            Evidence.Http http = new Evidence.Http("stub", "h2", "HTTP/2 429", Map.of(), null, null);
            return CompletableFuture.completedFuture(report(target, new Diagnosis(Reason.REGISTRY_RATE_LIMITED,
                    "stub: 429"), List.of(DNS, CONNECT, TLS, LIMITED), http));
        }
        // The requests as the walk sends them, one after the other, the options' registry pace apart.
        int requests = depth == Depth.HTTP ? 1 : image == null ? WITHOUT_IMAGE : WITH_IMAGE;
        long step = Math.max(GAP_MILLIS, options.registryPace().toMillis());
        for (int i = 0; i < requests; i++) {
            log.add(now + i * step);
        }
        return CompletableFuture.completedFuture(report(target, Diagnosis.OK, List.of(DNS, CONNECT, TLS, HTTP), null));
    }

    private TargetReport report(Target target, Diagnosis d, List<PhaseReport> phases, Evidence.Http http) {
        return new TargetReport(target.name(), d, "", phases, List.of(), new Evidence(null, null, http, null),
                time.instant(), null);
    }
}
