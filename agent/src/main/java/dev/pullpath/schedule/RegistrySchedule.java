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
 */
public record RegistrySchedule(boolean checked, Instant nextCheckAt, Duration interval, int requestsPerCheck) {
}
