package dev.pullpath.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.DaemonSetBuilder;
import java.util.OptionalInt;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The fleet size from the API: the agent's DaemonSet's desiredNumberScheduled, one GET of that one object. */
class DaemonSetSizeTest {

    @Test
    @DisplayName("desiredNumberScheduled of the named DaemonSet; a missing one or a refusal is no answer")
    void desiredNumberScheduled() throws Exception {
        try (KubeApiServer api = new KubeApiServer()) {
            DaemonSet ds = new DaemonSetBuilder().withNewMetadata().withName("pullpath").withNamespace("pullpath")
                    .endMetadata().withNewSpec().withNewSelector().addToMatchLabels("app", "pullpath").endSelector()
                    .endSpec().withNewStatus().withDesiredNumberScheduled(4_321).withCurrentNumberScheduled(4_000)
                    .withNumberReady(3_990).withNumberMisscheduled(0).endStatus().build();
            api.kubectl().apps().daemonSets().inNamespace("pullpath").resource(ds).create();
            api.kubectl().apps().daemonSets().inNamespace("pullpath").resource(ds).updateStatus();
            DaemonSetSize size = new DaemonSetSize(api.agentClient(), "pullpath", "pullpath");
            assertEquals(OptionalInt.of(4_321), size.count());
            assertTrue(api.requests().stream().anyMatch(r -> r.equals(
                    "GET /apis/apps/v1/namespaces/pullpath/daemonsets/pullpath")), api.requests().toString());
            assertThrows(IllegalStateException.class, () -> new DaemonSetSize(api.agentClient(), "pullpath",
                    "other").count());
            api.forbid(true);
            assertThrows(RuntimeException.class, size::count);
        }
    }
}
