package dev.pullpath.config;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * The fleet this agent is one node of ({@code fleet:} in the configuration): the registries' budget, which the
 * nodes share, and how the agent learns how many they are.
 *
 * @param registryBudget requests per second to each registry for the whole fleet (default 0.1); each node checks a
 *                       registry every {@code max(registryInterval, fleet size × requests per check / budget)}
 * @param size           the fleet size when none is discovered (the fallback): set it to about the node count
 * @param daemonSet      the agent's DaemonSet, whose {@code status.desiredNumberScheduled} is the fleet size (needs
 *                       {@code get} on it and {@code kubernetes.enabled}), or null
 * @param namespace      the DaemonSet's namespace (default: {@code POD_NAMESPACE}, from the downward API, else the
 *                       in-cluster client's, from the ServiceAccount token's projected {@code namespace} file), or
 *                       null
 * @param service        the headless Service's DNS name, whose A records are counted when the DaemonSet cannot be
 *                       read, or null
 * @param dnsServer      the server asked for {@code service} (the cluster DNS: with {@code dnsPolicy: Default} the
 *                       node's resolver does not know the Service), or null for the node's resolvers
 * @param refresh        how often the size is asked again
 */
public record FleetOptions(double registryBudget, int size, String daemonSet, String namespace, String service,
                           InetSocketAddress dnsServer, Duration refresh) {
    public static final double DEFAULT_BUDGET = 0.1;
    public static final Duration DEFAULT_REFRESH = Duration.ofMinutes(5);
    /** A node alone: the default budget, itself as the fleet, nothing discovered. */
    public static final FleetOptions ALONE = new FleetOptions(DEFAULT_BUDGET, 1, null, null, null, null,
            DEFAULT_REFRESH);

    /** Whether anything is discovered, or the configured size is the size. */
    public boolean discovers() {
        return daemonSet != null || service != null;
    }

    /** Where the size is discovered from, in the order asked ("daemonset pullpath, then dns NAME"), or null. */
    public String discoverySources() {
        if (!discovers()) {
            return null;
        }
        String ds = daemonSet == null ? null : "daemonset " + daemonSet;
        String dns = service == null ? null : "dns " + service;
        return ds == null ? dns : dns == null ? ds : ds + ", then " + dns;
    }

    /** Whether {@code other} discovers the size the same way (what only a restart changes). */
    public boolean sameDiscovery(FleetOptions other) {
        return Objects.equals(daemonSet, other.daemonSet) && Objects.equals(namespace, other.namespace)
                && Objects.equals(service, other.service) && Objects.equals(dnsServer, other.dnsServer)
                && refresh.equals(other.refresh);
    }
}
