package dev.pullpath.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.pullpath.schedule.FleetRank;
import dev.pullpath.schedule.FleetSizeWatch;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The fleet's members from the API: the EndpointSlices of the agent's headless Service, listed in its namespace by
 * the {@code kubernetes.io/service-name} label; this node's rank among their sorted distinct node names.
 */
class EndpointSliceMembersTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-03T12:00:00Z"), ZoneOffset.UTC);

    static EndpointSlice slice(String name, String service, String... nodes) {
        EndpointSliceBuilder b = new EndpointSliceBuilder().withNewMetadata().withName(name).withNamespace("pullpath")
                .addToLabels("kubernetes.io/service-name", service).endMetadata().withAddressType("IPv4");
        int i = 1;
        for (String node : nodes) {
            b.addToEndpoints(new EndpointBuilder().withAddresses("10.0.0." + i++).withNodeName(node)
                    .withNewConditions().withReady(false).endConditions().build());
        }
        return b.build();
    }

    @Test
    @DisplayName("two slices of the Service, a node listed twice, another Service's slice ignored: node-c is rank 2 "
            + "of 4 distinct nodes, in one list request")
    void rankAmongTheSortedNodeNames() {
        try (KubeApiServer api = new KubeApiServer(); var kubectl = api.kubectl()) {
            for (EndpointSlice s : List.of(slice("pullpath-abc", "pullpath", "node-d", "node-a", "node-c"),
                    slice("pullpath-def", "pullpath", "node-b", "node-c"),
                    slice("other-xyz", "other", "node-0", "node-1"))) {
                kubectl.discovery().v1().endpointSlices().inNamespace("pullpath").resource(s).create();
            }
            EndpointSliceMembers members = new EndpointSliceMembers(api.agentClient(), "pullpath",
                    EndpointSliceMembers.serviceName("pullpath.pullpath.svc.cluster.local"), "node-c", CLOCK);
            FleetSizeWatch.Members m = members.members();
            assertEquals(4, m.count());
            assertEquals(new FleetRank(2, 4, FleetRank.ENDPOINT_SLICES, CLOCK.instant()), m.rank());
            assertEquals(1, api.requests().stream().filter(r -> r.startsWith(
                    "GET /apis/discovery.k8s.io/v1/namespaces/pullpath/endpointslices?labelSelector=")).count(),
                    api.requests().toString());
        }
    }

    @Test
    @DisplayName("this node not listed yet: the count, no rank (the cadence stays random)")
    void ownNodeMissing() {
        try (KubeApiServer api = new KubeApiServer(); var kubectl = api.kubectl()) {
            kubectl.discovery().v1().endpointSlices().inNamespace("pullpath")
                    .resource(slice("pullpath-abc", "pullpath", "node-a", "node-b")).create();
            FleetSizeWatch.Members m = new EndpointSliceMembers(api.agentClient(), "pullpath", "pullpath", "node-z",
                    CLOCK).members();
            assertEquals(2, m.count());
            assertNull(m.rank());
        }
    }

    @Test
    @DisplayName("the API refuses (403: no Role): no answer, so the next source counts, and one warning for any "
            + "number of refusals")
    void refusedFallsBackAndLogsOnce() {
        Logger logger = (Logger) LoggerFactory.getLogger(EndpointSliceMembers.class);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        logger.addAppender(log);
        try (KubeApiServer api = new KubeApiServer()) {
            api.forbid(true);
            EndpointSliceMembers members = new EndpointSliceMembers(api.agentClient(), "pullpath", "pullpath",
                    "node-a", CLOCK);
            for (int i = 0; i < 3; i++) {
                assertNull(members.members());
            }
            List<ILoggingEvent> warnings = log.list.stream().filter(e -> e.getFormattedMessage()
                    .contains("endpointslices")).toList();
            assertEquals(1, warnings.size(), log.list.toString());
            assertTrue(warnings.get(0).getFormattedMessage().contains("HTTP 403"), warnings.get(0)
                    .getFormattedMessage());
        } finally {
            logger.detachAppender(log);
        }
    }
}
