package dev.pullpath.schedule;

import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.TargetReport;
import java.time.Instant;

/**
 * The status of a registry target before its first registry check, which at a fleet's cadence may be days after
 * start: what ran (DNS, TCP, TLS) and when the registry hops will, never a verdict on hops that did not run. Its
 * phases are the cheap hops only; the summary says the rest is pending and when it is due.
 */
final class PendingRegistryCheck {
    static final String SUMMARY_PREFIX = "the registry hops have not run yet on this node";

    private PendingRegistryCheck() {
    }

    /**
     * {@code cheap}, a probe of the cheap hops only, said for what it is (a failure stands as it is), and with slots
     * when the fleet's previous slot was (rank r − 1's, else null), said as scheduled: this node did not see that
     * check, only knows when it was due.
     */
    static TargetReport status(TargetReport cheap, Instant firstCheckAt, Instant fleetPreviousSlot) {
        if (!cheap.ok()) {
            return cheap;
        }
        Diagnosis d = new Diagnosis(cheap.diagnosis().reason(), "DNS, TCP and TLS work; " + SUMMARY_PREFIX
                + " (/v2/, token, manifest, layer): the first check is due at " + firstCheckAt + ", at this node's "
                + "share of the fleet's registry budget" + (fleetPreviousSlot == null ? "" : "; the fleet's previous check (the "
                + "node before this one in its slots) was scheduled at " + fleetPreviousSlot));
        return new TargetReport(cheap.target(), d, cheap.hint(), cheap.phases(), cheap.addresses(), cheap.evidence(),
                cheap.checkedAt(), null, cheap.endpoints());
    }
}
