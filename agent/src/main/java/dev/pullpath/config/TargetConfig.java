package dev.pullpath.config;

import java.time.Duration;
import java.util.Map;

/**
 * One probed target of the daemon, with every default already applied.
 *
 * @param name              the {@code target} label of every metric and log line: short and stable
 * @param target            where to probe
 * @param kind              how far along the path
 * @param interval          between probes of the cheap hops (DNS, TCP, TLS)
 * @param registryInterval  between probes of the registry hops, which the registry counts against its rate limit
 * @param timeout           the budget of each phase
 * @param labels            operator's labels, carried into {@code /status} and the logs (not into metrics: their
 *                          keys differ per target and would multiply series)
 * @param proxies           this target's proxy settings, or null for the agent's
 * @param image             the image whose manifest and smallest blob the registry hops fetch ({@code REPO:TAG} or
 *                          {@code REPO@sha256:...}, without the registry host), or null for none: the layer hop
 *                          then does not run
 */
public record TargetConfig(String name, Target target, TargetKind kind, Duration interval, Duration registryInterval,
                           Duration timeout, Map<String, String> labels, ProxySettings proxies, String image) {

    /**
     * An image reference as a pull names it: a repository and a tag or a digest, after the registry host.
     * {@code docker.io}'s implicit {@code library/} is not added: name the repository as the registry serves it.
     */
    public static final java.util.regex.Pattern IMAGE_REFERENCE = java.util.regex.Pattern.compile(
            "([a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})"
                    + "|@(sha256:[a-f0-9]{64}))");

    /**
     * The image a target of public.ecr.aws gets when its config names none: Docker's official busybox, a released
     * version tag. Small and long-lived: ECR Public mirrors Docker's official images and keeps their version tags;
     * it is built for linux/amd64 and linux/arm64 (and more), so every node finds its platform; and the layer hop
     * fetches one byte of its smallest blob, the config (about 1.5 KB), never a layer.
     */
    public static final String PUBLIC_ECR_DEFAULT_IMAGE = "docker/library/busybox:1.36";

    public TargetConfig {
        labels = Map.copyOf(labels);
    }

    public TargetConfig(String name, Target target, TargetKind kind, Duration interval, Duration registryInterval,
                        Duration timeout, Map<String, String> labels, ProxySettings proxies) {
        this(name, target, kind, interval, registryInterval, timeout, labels, proxies, null);
    }

    public TargetConfig(String name, Target target, TargetKind kind, Duration interval, Duration registryInterval,
                        Duration timeout, Map<String, String> labels) {
        this(name, target, kind, interval, registryInterval, timeout, labels, null);
    }
}
