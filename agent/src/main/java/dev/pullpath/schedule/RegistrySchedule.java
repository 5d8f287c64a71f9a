package dev.pullpath.schedule;

import java.time.Duration;
import java.time.Instant;

/**
 * Where a registry target's checks stand on this node, for {@code /status} and the metrics.
 *
 * @param checked          whether a check has reached the registry yet (until then the status says when it will)
 * @param nextCheckAt      when the next check is due
 * @param interval         the per-node interval in force (the fleet's share, or the target's registryInterval)
 * @param requestsPerCheck the requests one check sends, as the budget counts them
 * @param rank             this node's rank when its checks are on slots, null when they are at random instants
 *                         (the rank not known: no source answered, DNS only, a configured size)
 * @param fleetPreviousAt  with slots, when the fleet's slot before this node's next one is (rank r − 1's): when
 *                         the fleet is scheduled to have checked last, not an observation; else null
 * @param lastCheckAt      when this node's last check reached the registry, null before the first
 */
public record RegistrySchedule(boolean checked, Instant nextCheckAt, Duration interval, int requestsPerCheck,
                               FleetRank rank, Instant fleetPreviousAt, Instant lastCheckAt) {
    /** "slot 17 of 5000 (endpointslices)" or "random", for /status. */
    public String placement() {
        return rank == null ? "random" : "slot " + rank.rank() + " of " + rank.members() + " (" + rank.source() + ")";
    }
}
