package dev.pullpath.config;

import java.time.Duration;

/**
 * Whether and how the daemon speaks to the Kubernetes API of its node ({@code kubernetes:} in the configuration):
 * a node condition, Events on the node, and a diagnosis on each pod of the node whose image pull fails. The CLI
 * never uses it.
 *
 * @param enabled            off unless configured (the manifests and the chart turn it on)
 * @param heartbeat          how often the node condition is re-patched when nothing changes, so a stale condition
 *                           shows by its heartbeat time (node-problem-detector's default is 5m)
 * @param diagnosisSpacing   the least time between two diagnoses of one image on this node
 * @param maxConcurrentDiagnoses pod diagnoses in flight at once
 * @param readPullSecrets    whether a pod diagnosis reads the pod's imagePullSecrets (off unless configured: it
 *                           needs {@code get secrets} in every namespace, which the default RBAC does not grant)
 */
public record KubernetesOptions(boolean enabled, Duration heartbeat, Duration diagnosisSpacing,
                                int maxConcurrentDiagnoses, boolean readPullSecrets) {

    public static final Duration DEFAULT_HEARTBEAT = Duration.ofMinutes(5);
    public static final Duration DEFAULT_DIAGNOSIS_SPACING = Duration.ofMinutes(10);
    public static final int DEFAULT_MAX_CONCURRENT_DIAGNOSES = 2;
    public static final KubernetesOptions DISABLED = new KubernetesOptions(false, DEFAULT_HEARTBEAT,
            DEFAULT_DIAGNOSIS_SPACING, DEFAULT_MAX_CONCURRENT_DIAGNOSES, false);
}
