package dev.pullpath.config;

import dev.pullpath.config.ConfigFile.RawFleet;
import java.time.Duration;
import java.util.regex.Pattern;

/** The {@code fleet:} keys into checked {@link FleetOptions}. */
final class FleetKeys {
    /** A DaemonSet's or namespace's name: an RFC 1123 label, as the API server checks it. */
    private static final Pattern OBJECT_NAME = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern DNS_NAME = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?"
            + "(\\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*\\.?");
    private static final int MAX_SIZE = 1_000_000;

    private FleetKeys() {
    }

    /** {@code podNamespace}: the downward API's {@code POD_NAMESPACE}, the namespace unless the file names one. */
    static FleetOptions resolve(RawFleet raw, String where, String podNamespace) {
        if (raw == null) {
            return FleetOptions.ALONE;
        }
        double budget = raw.registryBudget() == null ? FleetOptions.DEFAULT_BUDGET : raw.registryBudget();
        if (!(budget > 0) || budget > 100) {
            throw new ConfigException(where + "fleet.registryBudget: requests per second to each registry for the "
                    + "whole fleet, more than 0 and at most 100 (public.ecr.aws allows about 1 per NAT address)");
        }
        int size = raw.size() == null ? 1 : raw.size();
        if (size < 1 || size > MAX_SIZE) {
            throw new ConfigException(where + "fleet.size: 1-" + MAX_SIZE + " (the node count, used until one is "
                    + "discovered)");
        }
        String daemonSet = name(raw.daemonSet(), where + "fleet.daemonSet");
        String namespace = name(raw.namespace() != null ? raw.namespace()
                : podNamespace == null || podNamespace.isBlank() ? null : podNamespace.strip(), where + "fleet.namespace");
        String service = raw.service() == null ? null : raw.service().strip();
        if (service != null && (service.length() > 253 || !DNS_NAME.matcher(service).matches())) {
            throw new ConfigException(where + "fleet.service: '" + service + "' is not a DNS name (the headless "
                    + "Service's, e.g. pullpath.pullpath.svc.cluster.local)");
        }
        if (raw.dnsServer() != null && service == null) {
            throw new ConfigException(where + "fleet.dnsServer: only used to ask for fleet.service; set it too");
        }
        Duration refresh = raw.refresh() == null ? FleetOptions.DEFAULT_REFRESH : raw.refresh();
        if (refresh.compareTo(Duration.ofSeconds(30)) < 0 || refresh.compareTo(Duration.ofHours(1)) > 0) {
            throw new ConfigException(where + "fleet.refresh: 30s-1h (every node asks this often)");
        }
        try {
            return new FleetOptions(budget, size, daemonSet, namespace, service,
                    raw.dnsServer() == null ? null : ProbeOptions.parseResolver(raw.dnsServer()), refresh);
        } catch (ConfigException e) {
            throw new ConfigException(where + "fleet.dnsServer: " + e.getMessage());
        }
    }

    private static String name(String value, String key) {
        if (value == null) {
            return null;
        }
        String s = value.strip();
        if (!OBJECT_NAME.matcher(s).matches()) {
            throw new ConfigException(key + ": '" + s + "' is not a Kubernetes object name (lower case letters, "
                    + "digits and -, at most 63)");
        }
        return s;
    }
}
