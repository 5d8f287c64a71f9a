package dev.pullpath.kubernetes;

import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.schedule.TargetStatus;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.NodeConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The {@code ImagePullPath} condition of the agent's node: True while every target's path works, False naming each
 * failing target, its hop and since when. What was last patched is kept, so a repeat waits for the heartbeat.
 */
record PullPathCondition(String status, String reason, String message, Instant transition) {
    static final String TYPE = "ImagePullPath";

    /** The condition for these statuses; the transition time is kept from {@code before} while the status holds. */
    static PullPathCondition of(Collection<TargetStatus> statuses, PullPathCondition before, Instant now) {
        List<TargetStatus> all = new ArrayList<>(statuses);
        all.sort(Comparator.comparing((TargetStatus s) -> s.report().ok()).thenComparing(TargetStatus::since)
                .thenComparing(s -> s.config().name()));
        List<TargetStatus> failing = all.stream().filter(s -> !s.report().ok()).toList();
        String status;
        String reason;
        StringBuilder message = new StringBuilder();
        if (failing.isEmpty()) {
            status = "True";
            reason = "RegistriesReachable";
            message.append("pullpath: the pull path of every registry target works from this node (")
                    .append(all.size()).append(all.size() == 1 ? " target)" : " targets)");
            for (TargetStatus s : all) {
                if (s.report().outcome() != Reason.OK) {
                    message.append("; warning: ").append(s.config().name()).append(": ").append(s.report().category())
                            .append("/").append(s.report().reason()).append(": ").append(s.report().summary());
                }
            }
        } else {
            status = "False";
            reason = Wording.reason(failing.get(0).report());
            for (TargetStatus s : failing) {
                TargetReport r = s.report();
                message.append(message.length() == 0 ? "" : "; ").append(s.config().name()).append(": ")
                        .append(r.category()).append("/").append(r.reason()).append(" at ").append(Wording.hop(r))
                        .append(": ").append(r.summary()).append(" (since ").append(s.since()
                                .truncatedTo(ChronoUnit.SECONDS)).append(")");
            }
            message.append(". ").append(failing.get(0).report().hint());
        }
        Instant transition = before != null && before.status().equals(status) ? before.transition()
                : now.truncatedTo(ChronoUnit.SECONDS);
        return new PullPathCondition(status, reason, Wording.bounded(message.toString()), transition);
    }

    /** Whether patching this instead of {@code posted} would tell the node anything new. */
    boolean differsFrom(PullPathCondition posted) {
        return posted == null || !status.equals(posted.status) || !reason.equals(posted.reason)
                || !message.equals(posted.message);
    }

    /**
     * Puts the condition into the node's status. A JSON patch that tests the resourceVersion it read and sets the
     * whole list: the kubelet's conditions are carried over as read, and a kubelet update in between fails the test
     * (422/409) and is retried on the next attempt, instead of being overwritten. Needs get on nodes and patch on
     * nodes/status.
     */
    void patchInto(KubernetesClient client, String node, Instant heartbeat) {
        Node n = client.nodes().withName(node).get();
        if (n == null) {
            throw new KubernetesClientException("node " + node + " not found (is NODE_NAME the node's name?)", 404,
                    null);
        }
        Instant now = heartbeat.truncatedTo(ChronoUnit.SECONDS);
        List<NodeCondition> conditions = new ArrayList<>();
        if (n.getStatus() != null && n.getStatus().getConditions() != null) {
            n.getStatus().getConditions().stream().filter(x -> !TYPE.equals(x.getType())).forEach(conditions::add);
        }
        conditions.add(new NodeConditionBuilder().withType(TYPE).withStatus(status).withReason(reason)
                .withMessage(message).withLastHeartbeatTime(now.toString())
                .withLastTransitionTime(transition.toString()).build());
        List<Map<String, Object>> ops = List.of(
                Map.of("op", "test", "path", "/metadata/resourceVersion", "value",
                        n.getMetadata().getResourceVersion()),
                Map.of("op", "add", "path", "/status/conditions", "value", conditions));
        client.nodes().withName(node).subresource("status")
                .patch(PatchContext.of(PatchType.JSON), Serialization.asJson(ops));
    }
}
