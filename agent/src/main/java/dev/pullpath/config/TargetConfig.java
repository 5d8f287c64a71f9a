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
 */
public record TargetConfig(String name, Target target, TargetKind kind, Duration interval, Duration registryInterval,
                           Duration timeout, Map<String, String> labels, ProxySettings proxies) {

    public TargetConfig {
        labels = Map.copyOf(labels);
    }

    public TargetConfig(String name, Target target, TargetKind kind, Duration interval, Duration registryInterval,
                        Duration timeout, Map<String, String> labels) {
        this(name, target, kind, interval, registryInterval, timeout, labels, null);
    }
}
