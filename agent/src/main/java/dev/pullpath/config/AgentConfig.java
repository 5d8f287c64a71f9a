package dev.pullpath.config;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/**
 * The daemon's configuration after defaults, file and environment are merged and validated.
 *
 * @param source                    where it came from (a path, or "built-in defaults"), for logs and errors
 * @param listen                    the HTTP server's address
 * @param node                      the node name (downward API {@code NODE_NAME}), a label of pullpath_agent_info
 * @param zone                      the availability zone, likewise
 * @param maxConcurrentProbes       probes in flight at once, over all targets
 * @param allowUnconfiguredProbes   whether {@code /probe} may name a target that is not configured
 * @param phaseHistograms           whether pullpath_probe_duration_seconds is exported per phase
 * @param probe                     resolver, trust and bounds shared by all targets (timeout per target)
 * @param targets                   what to probe
 * @param onDemandSpacing           the least time between two {@code /probe} runs of one target (a caller in a loop
 *                                  gets the latest result); zero only for benchmarks against one's own endpoints
 * @param kubernetes                the node condition, Events and pod diagnoses ({@code kubernetes:}), off by default
 * @param fleet                     the registries' fleet-wide budget and the fleet's size ({@code fleet:})
 */
public record AgentConfig(String source, InetSocketAddress listen, String node, String zone,
                          int maxConcurrentProbes, boolean allowUnconfiguredProbes, boolean phaseHistograms,
                          ProbeOptions probe, List<TargetConfig> targets, Path file,
                          java.time.Duration onDemandSpacing, KubernetesOptions kubernetes, FleetOptions fleet) {

    public static final java.time.Duration DEFAULT_ON_DEMAND_SPACING = java.time.Duration.ofSeconds(5);

    public AgentConfig {
        targets = List.copyOf(targets);
        kubernetes = kubernetes == null ? KubernetesOptions.DISABLED : kubernetes;
        fleet = fleet == null ? FleetOptions.ALONE : fleet;
    }

    public AgentConfig(String source, InetSocketAddress listen, String node, String zone, int maxConcurrentProbes,
                       boolean allowUnconfiguredProbes, boolean phaseHistograms, ProbeOptions probe,
                       List<TargetConfig> targets, Path file, java.time.Duration onDemandSpacing,
                       KubernetesOptions kubernetes) {
        this(source, listen, node, zone, maxConcurrentProbes, allowUnconfiguredProbes, phaseHistograms, probe, targets,
                file, onDemandSpacing, kubernetes, FleetOptions.ALONE);
    }

    public AgentConfig(String source, InetSocketAddress listen, String node, String zone, int maxConcurrentProbes,
                       boolean allowUnconfiguredProbes, boolean phaseHistograms, ProbeOptions probe,
                       List<TargetConfig> targets, Path file, java.time.Duration onDemandSpacing) {
        this(source, listen, node, zone, maxConcurrentProbes, allowUnconfiguredProbes, phaseHistograms, probe, targets,
                file, onDemandSpacing, KubernetesOptions.DISABLED);
    }

    public AgentConfig(String source, InetSocketAddress listen, String node, String zone, int maxConcurrentProbes,
                       boolean allowUnconfiguredProbes, boolean phaseHistograms, ProbeOptions probe,
                       List<TargetConfig> targets, Path file) {
        this(source, listen, node, zone, maxConcurrentProbes, allowUnconfiguredProbes, phaseHistograms, probe, targets,
                file, DEFAULT_ON_DEMAND_SPACING);
    }

    public TargetConfig target(String name) {
        return targets.stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
    }
}
