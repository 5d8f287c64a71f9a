package dev.pullpath.fleetsim;

import dev.pullpath.schedule.FleetRank;
import dev.pullpath.schedule.FleetSizeWatch;
import java.util.OptionalInt;
import java.util.TreeSet;

/**
 * The simulated fleet's headless Service as its EndpointSlices list it: the node names of the agents running, each
 * published {@link #PUBLISH_LAG_NANOS} after its agent started (the pod gets its address) and gone when it stops.
 * Each agent asks it through the same {@link FleetSizeWatch.Source} interface as {@code EndpointSliceMembers}, on
 * its own jittered refresh: between two refreshes its rank is as stale as a real node's.
 */
final class Membership {
    static final long PUBLISH_LAG_NANOS = 5_000_000_000L;

    private final TreeSet<String> listed = new TreeSet<>();
    private final VirtualTime time;
    /** {@link #listed} as an array, rebuilt after a change: 5,000 nodes each ask every 5 min for 2 weeks. */
    private String[] sorted = new String[0];
    private boolean changed;

    Membership(VirtualTime time) {
        this.time = time;
    }

    void join(String node) {
        time.at(time.nanos() + PUBLISH_LAG_NANOS, () -> changed |= listed.add(node));
    }

    void leave(String node) {
        changed |= listed.remove(node);
    }

    /** What the node named {@code self} reads: the list now, its rank in it when listed. */
    FleetSizeWatch.Source sourceFor(String self) {
        return new FleetSizeWatch.Source() {
            @Override
            public boolean ranks() {
                return true;
            }

            @Override
            public String name() {
                return FleetRank.ENDPOINT_SLICES;
            }

            @Override
            public OptionalInt count() {
                return listed.isEmpty() ? OptionalInt.empty() : OptionalInt.of(listed.size());
            }

            @Override
            public FleetSizeWatch.Members members() {
                if (listed.isEmpty()) {
                    return null;
                }
                if (changed) {
                    sorted = listed.toArray(new String[0]);
                    changed = false;
                }
                int r = java.util.Arrays.binarySearch(sorted, self);
                FleetRank rank = r >= 0 ? new FleetRank(r, sorted.length, name(), time.instant()) : null;
                return new FleetSizeWatch.Members(listed.size(), rank);
            }
        };
    }
}
