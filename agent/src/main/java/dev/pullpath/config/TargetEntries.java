package dev.pullpath.config;

import dev.pullpath.config.ConfigFile.RawTarget;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code targets:} list (or PULLPATH_TARGETS, or the default target) into checked {@link TargetConfig}s: names,
 * addresses, per-target intervals inherited from the top level, labels, proxies, and private ECR expanded into its
 * endpoints.
 */
final class TargetEntries {
    private static final Duration MIN_INTERVAL = Duration.ofSeconds(1);
    private static final Duration MIN_REGISTRY_INTERVAL = Duration.ofSeconds(10);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}");
    private static final Pattern LABEL_KEY = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]{0,62}");
    private static final int MAX_TARGETS = 64;

    /** The top-level values a target inherits unless it sets its own. */
    record Defaults(Duration interval, Duration registryInterval, Duration timeout) {
    }

    private TargetEntries() {
    }

    /**
     * The targets: PULLPATH_TARGETS ({@code fromEnv}, comma-separated) replaces the file's list; with neither, the
     * default target. {@code where} prefixes every message (the file's name).
     */
    static List<TargetConfig> resolve(List<RawTarget> fromFile, String fromEnv, String where, Defaults defaults) {
        List<RawTarget> rawTargets = fromFile;
        if (fromEnv != null && !fromEnv.isBlank()) {
            rawTargets = new ArrayList<>();
            for (String spec : fromEnv.split(",")) {
                if (!spec.isBlank()) {
                    rawTargets.add(RawTarget.of(ConfigValues.parseEnv("PULLPATH_TARGETS", Target::parse,
                            spec.trim())));
                }
            }
        }
        if (rawTargets == null || rawTargets.isEmpty()) {
            rawTargets = List.of(RawTarget.of(Target.parse(ConfigLoader.DEFAULT_TARGET)));
        }
        if (rawTargets.size() > MAX_TARGETS) {
            throw new ConfigException(where + "targets: at most " + MAX_TARGETS + " targets per agent");
        }
        List<TargetConfig> targets = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < rawTargets.size(); i++) {
            for (RawTarget entry : expand(rawTargets.get(i), where + "targets[" + i + "]")) {
                TargetConfig t = target(entry, where + "targets[" + i + "]", defaults);
                if (!names.add(t.name())) {
                    throw new ConfigException(where + "targets[" + i + "].name: duplicate target name '" + t.name()
                            + "'");
                }
                targets.add(t);
            }
        }
        return targets;
    }

    /**
     * An {@code ecr:} entry becomes private ECR's three endpoints: the registry walks the whole path, the API and the
     * layer bucket stop at TLS (they are not registries). Its other settings apply to all three.
     */
    private static List<RawTarget> expand(RawTarget raw, String key) {
        if (raw == null || raw.ecr() == null) {
            return Collections.singletonList(raw);
        }
        if (raw.url() != null || raw.host() != null || raw.name() != null || raw.kind() != null) {
            throw new ConfigException(key + ".ecr: an ecr target names its endpoints itself; drop url, host, name "
                    + "and kind");
        }
        List<Target> endpoints;
        try {
            endpoints = PrivateEcr.endpoints(raw.ecr().region(), raw.ecr().account());
        } catch (ConfigException e) {
            throw new ConfigException(key + ".ecr: " + e.getMessage().replace("--ecr-", ""));
        }
        return endpoints.stream().map(t -> new RawTarget(null, t, null, null,
                TargetKind.defaultFor(t.host()), raw.interval(),
                raw.registryInterval(), raw.timeout(), raw.labels(), raw.proxy(), raw.credentials(), null, null)).toList();
    }

    private static TargetConfig target(RawTarget raw, String key, Defaults defaults) {
        if (raw == null) {
            throw new ConfigException(key + ": empty target");
        }
        if (raw.credentials() != null) {
            throw new ConfigException(key + ".credentials: credential sources are set once, at the top level "
                    + "(credentials: dockerConfig, registryConfig, credentialProviderConfig), as on the node");
        }
        Target target = address(raw, key);
        String name = raw.name() != null ? raw.name() : target.port() == Target.HTTPS_PORT ? target.host()
                : target.host() + ":" + target.port();
        if (!NAME.matcher(name).matches()) {
            throw new ConfigException(key + ".name: '" + name + "' must be 1-63 characters of letters, digits and "
                    + "_ . : - (it becomes a metric label)");
        }
        Duration ti = raw.interval() != null ? raw.interval() : defaults.interval();
        Duration tr = raw.registryInterval() != null ? raw.registryInterval() : defaults.registryInterval();
        Duration tt = raw.timeout() != null ? raw.timeout() : defaults.timeout();
        // A value inherited from the top level is reported at the top level, where it was written.
        String where = key.substring(0, Math.max(0, key.indexOf("targets[")));
        if (ti.compareTo(MIN_INTERVAL) < 0) {
            throw new ConfigException((raw.interval() != null ? key + "." : where) + "interval: at least 1s");
        }
        if (tr.compareTo(MIN_REGISTRY_INTERVAL) < 0) {
            throw new ConfigException((raw.registryInterval() != null ? key + "." : where) + "registryInterval: at "
                    + "least 10s (registries rate-limit every node behind a NAT together)");
        }
        if (tr.compareTo(ti) < 0) {
            tr = ti;
        }
        if (tt.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new ConfigException((raw.timeout() != null ? key + "." : where) + "timeout: at most 1m per phase");
        }
        Map<String, String> labels = labels(raw.labels(), key);
        ProxySettings proxies = raw.proxy() == null ? null : ProxySettings.of(key + ".proxy.url", raw.proxy().url(),
                key + ".proxy.noProxy", raw.proxy().noProxy());
        TargetKind kind = raw.kind() == null ? TargetKind.REGISTRY : raw.kind();
        return new TargetConfig(name, new Target(name, target.host(), target.port()), kind, ti, tr, tt, labels,
                proxies, image(raw.image(), key, target, kind));
    }

    /**
     * A target's {@code image}: the one written (its registry host may lead it), {@code none} for no layer hop,
     * or for public.ecr.aws {@link TargetConfig#PUBLIC_ECR_DEFAULT_IMAGE}. Only a registry target fetches one.
     */
    private static String image(String written, String key, Target target, TargetKind kind) {
        if (written == null) {
            return kind == TargetKind.REGISTRY && target.host().equals(ConfigLoader.DEFAULT_TARGET)
                    && target.port() == Target.HTTPS_PORT ? TargetConfig.PUBLIC_ECR_DEFAULT_IMAGE : null;
        }
        String s = written.strip();
        if (s.equals("none")) {
            return null;
        }
        if (kind != TargetKind.REGISTRY) {
            throw new ConfigException(key + ".image: only a registry target fetches an image (kind is "
                    + kind.name().toLowerCase(java.util.Locale.ROOT) + ")");
        }
        String prefix = target.authority() + "/";
        String reference = s.startsWith(prefix) ? s.substring(prefix.length()) : s;
        if (!TargetConfig.IMAGE_REFERENCE.matcher(reference).matches()) {
            throw new ConfigException(key + ".image: '" + (written.length() > 200 ? written.substring(0, 200) + "..."
                    : written) + "': expected REPOSITORY:TAG or REPOSITORY@sha256:DIGEST (or none)");
        }
        return reference;
    }

    /** {@code url}, or {@code host} with {@code port}: exactly one of the two. */
    private static Target address(RawTarget raw, String key) {
        if (raw.url() != null && raw.host() != null) {
            throw new ConfigException(key + ": give either url or host (with port), not both");
        } else if (raw.url() != null) {
            if (raw.port() != null) {
                throw new ConfigException(key + ".port: the port goes into the url");
            }
            return raw.url();
        } else if (raw.host() != null) {
            int port = raw.port() == null ? Target.HTTPS_PORT : raw.port();
            try {
                return Target.parse(raw.host().contains(":") && !raw.host().startsWith("[")
                        ? "[" + raw.host() + "]:" + port : raw.host() + ":" + port);
            } catch (ConfigException e) {
                throw new ConfigException(key + ".host: " + e.getMessage());
            }
        }
        throw new ConfigException(key + ": a target needs url or host");
    }

    private static Map<String, String> labels(Map<String, String> raw, String key) {
        Map<String, String> labels = raw == null ? Map.of() : new LinkedHashMap<>(raw);
        for (Map.Entry<String, String> l : labels.entrySet()) {
            if (l.getValue() == null) {
                throw new ConfigException(key + ".labels." + l.getKey() + ": a label needs a value");
            }
            if (!LABEL_KEY.matcher(l.getKey()).matches() || l.getValue().length() > 128) {
                throw new ConfigException(key + ".labels." + l.getKey() + ": label keys are [a-zA-Z_][a-zA-Z0-9_]*, "
                        + "values at most 128 characters");
            }
        }
        return labels;
    }
}
