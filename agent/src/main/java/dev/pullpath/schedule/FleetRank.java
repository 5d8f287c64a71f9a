package dev.pullpath.schedule;

import java.time.Instant;

/**
 * This node's place among the fleet's members, from which its registry checks get a slot of their own on the
 * fleet's shared wall clock ({@link RegistryCadence}): rank {@code r} of {@code members} checks at
 * {@code (t − epoch) mod I = (r + ½) / members × I}. Every node sorts the same member list the same way, so the
 * slots of a fleet never coincide, however the nodes start, reload or come back from a 429 storm.
 *
 * @param rank    0-based position of this node's name among the sorted member names
 * @param members how many distinct members the source listed (this node among them)
 * @param source  where the list came from ({@code endpointslices})
 * @param at      when the source last answered
 */
public record FleetRank(int rank, int members, String source, Instant at) {
    public static final String ENDPOINT_SLICES = "endpointslices";

    public FleetRank {
        if (members < 1 || rank < 0 || rank >= members) {
            throw new IllegalArgumentException("rank " + rank + " of " + members);
        }
    }

    /** {@code self}'s rank among {@code names} (sorted, distinct), or null when {@code self} is not among them. */
    public static FleetRank of(java.util.Collection<String> names, String self, String source, Instant at) {
        java.util.List<String> sorted = names.stream().distinct().sorted().toList();
        int r = sorted.indexOf(self);
        return r < 0 ? null : new FleetRank(r, sorted.size(), source, at);
    }
}
