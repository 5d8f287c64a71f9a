package dev.pullpath.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.DaemonSetBuilder;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The fleet's discovery and the reporter share one client of the API server: one HTTP client, one selector. */
class ApiClientTest {
    /** fabric8's in-cluster configuration read from system properties, as it would be from the pod's files. */
    private static final Map<String, String> IN_CLUSTER = Map.of("kubernetes.auth.tryKubeConfig", "false",
            "kubernetes.auth.tryServiceAccount", "false", "kubernetes.namespace", "pullpath");
    private KubeApiServer api;

    @BeforeEach
    void anApiServerAsTheInClusterConfiguration() {
        api = new KubeApiServer();
        IN_CLUSTER.forEach(System::setProperty);
        System.setProperty("kubernetes.master", api.url());
        DaemonSet ds = new DaemonSetBuilder().withNewMetadata().withName("pullpath").withNamespace("pullpath")
                .endMetadata().withNewSpec().withNewSelector().addToMatchLabels("app", "pullpath").endSelector()
                .endSpec().withNewStatus().withDesiredNumberScheduled(12).withCurrentNumberScheduled(12)
                .withNumberReady(12).withNumberMisscheduled(0).endStatus().build();
        try (var kubectl = api.kubectl()) {
            kubectl.apps().daemonSets().inNamespace("pullpath").resource(ds).create();
            kubectl.apps().daemonSets().inNamespace("pullpath").resource(ds).updateStatus();
            kubectl.discovery().v1().endpointSlices().inNamespace("pullpath")
                    .resource(EndpointSliceMembersTest.slice("pullpath-abc", "pullpath", "node-a", "node-b")).create();
        }
    }

    @AfterEach
    void restore() {
        IN_CLUSTER.keySet().forEach(System::clearProperty);
        System.clearProperty("kubernetes.master");
        api.close();
    }

    @Test
    @DisplayName("the Service's EndpointSlices and the DaemonSet's size from the in-cluster configuration → one "
            + "client (one selector thread, not two), open until the last of them closes")
    void oneClientForTheFleetsDiscovery() throws Exception {
        Set<String> before = selectorThreads();
        ApiClient shared = new ApiClient();
        DaemonSetSize size = DaemonSetSize.inCluster(shared, null, "pullpath");
        EndpointSliceMembers slices = EndpointSliceMembers.inCluster(shared, null, "pullpath", "node-a",
                Clock.fixed(Instant.parse("2026-12-04T00:00:00Z"), ZoneOffset.UTC));
        Set<String> made = selectorThreads();
        made.removeAll(before);
        assertEquals(1, made.size(), "HTTP client selector threads made: " + made);
        assertEquals(OptionalInt.of(12), size.count());
        assertEquals(OptionalInt.of(2), slices.count());
        slices.close();
        assertEquals(OptionalInt.of(12), size.count(), "still open for the DaemonSet's size");
        size.close();
        assertThrows(RuntimeException.class, size::count, "closed after the last user");
        assertTrue(api.requests().contains("GET /apis/apps/v1/namespaces/pullpath/daemonsets/pullpath"),
                api.requests().toString());
    }

    private static Set<String> selectorThreads() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .filter(n -> n.contains("SelectorManager")).collect(Collectors.toSet());
    }
}
