package dev.pullpath.config;

import dev.pullpath.files.BoundedFile;
import dev.pullpath.config.ConfigFile.RawConfig;
import dev.pullpath.config.ConfigFile.RawCredentials;
import dev.pullpath.config.ConfigFile.RawKubernetes;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Reads the daemon's YAML configuration, applies the environment over it and the defaults under it, and checks it.
 * Reading the file and its error messages ({@code config.yaml:7:14: targets[0].interval: ...}) are
 * {@link ConfigFile}'s, the targets {@link TargetEntries}'; this class puts the top-level keys together.
 */
public final class ConfigLoader {
    public static final Path DEFAULT_PATH = Path.of("/etc/pullpath/config.yaml");
    public static final int DEFAULT_PORT = 9847;
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
    public static final Duration DEFAULT_REGISTRY_INTERVAL = Duration.ofMinutes(5);
    public static final String DEFAULT_TARGET = "public.ecr.aws";
    static final long MAX_FILE_BYTES = 1024 * 1024;

    private final ConfigFile reader = new ConfigFile();
    private final ConfigValues values;

    public ConfigLoader(Function<String, String> env) {
        this.values = new ConfigValues(env);
    }

    public static ConfigLoader fromEnvironment() {
        return new ConfigLoader(System::getenv);
    }

    /**
     * Loads {@code file}; when {@code required} is false and the file does not exist, the built-in defaults (plus
     * the environment) are the configuration.
     */
    public AgentConfig load(Path file, boolean required) {
        String text;
        try {
            text = BoundedFile.readString(file, MAX_FILE_BYTES, StandardCharsets.UTF_8);
        } catch (BoundedFile.TooLarge e) {
            throw new ConfigException(file + ": larger than 1 MiB");
        } catch (NoSuchFileException e) {
            if (required) {
                throw new ConfigException(file + ": no such file");
            }
            return resolve(RawConfig.EMPTY, "built-in defaults", null);
        } catch (IOException | SecurityException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        }
        return parse(text, file);
    }

    /** Parses YAML text as if read from {@code file} (the name only appears in messages). */
    public AgentConfig parse(String text, Path file) {
        return resolve(reader.read(text, file), file.toString(), file);
    }

    private AgentConfig resolve(RawConfig raw, String source, Path file) {
        String where = file == null ? "" : file + ": ";
        InetSocketAddress listen = values.envOr("PULLPATH_LISTEN", ConfigValues::listenAddress, raw.listen(),
                new InetSocketAddress("0.0.0.0", DEFAULT_PORT));
        Duration interval = values.envOr("PULLPATH_INTERVAL", Durations::parse, raw.interval(), DEFAULT_INTERVAL);
        Duration registryInterval = values.envOr("PULLPATH_REGISTRY_INTERVAL", Durations::parse,
                raw.registryInterval(), DEFAULT_REGISTRY_INTERVAL);
        Duration timeout = values.envOr("PULLPATH_TIMEOUT", Durations::parse, raw.timeout(),
                ProbeOptions.DEFAULT_TIMEOUT);
        int maxConcurrent = values.envOr("PULLPATH_MAX_CONCURRENT_PROBES", ConfigValues::positiveInt,
                raw.maxConcurrentProbes(), 4);
        boolean allowUnconfigured = values.envOr("PULLPATH_ALLOW_UNCONFIGURED_PROBES", ConfigValues::bool,
                raw.allowUnconfiguredProbes(), false);
        boolean phaseHistograms = values.envOr("PULLPATH_PHASE_HISTOGRAMS", ConfigValues::bool,
                raw.phaseHistograms(), true);
        boolean traceroute = values.envOr("PULLPATH_TRACEROUTE", ConfigValues::bool, raw.traceroute(), true);
        String node = values.envOr("NODE_NAME", s -> s, raw.node(), ConfigValues.localHostName());
        String zone = values.envOr("PULLPATH_ZONE", s -> s, raw.zone(), "");
        if (maxConcurrent < 1 || maxConcurrent > 64) {
            throw new ConfigException(where + "maxConcurrentProbes: must be 1-64");
        }
        ProbeOptions probe = probeOptions(raw, where, timeout, traceroute);
        List<TargetConfig> targets = TargetEntries.resolve(raw.targets(), values.env("PULLPATH_TARGETS"), where,
                new TargetEntries.Defaults(interval, registryInterval, timeout));
        // Zero is allowed here, unlike any interval: a benchmark against one's own endpoint wants every /probe run.
        Duration spacing;
        try {
            spacing = raw.onDemandSpacing() == null ? AgentConfig.DEFAULT_ON_DEMAND_SPACING
                    : raw.onDemandSpacing().strip().matches("0+(ms|s)?") ? Duration.ZERO
                    : Durations.parse(raw.onDemandSpacing());
        } catch (ConfigException e) {
            throw new ConfigException(where + "onDemandSpacing: " + e.getMessage());
        }
        return new AgentConfig(source, listen, node, zone, maxConcurrent, allowUnconfigured, phaseHistograms, probe,
                targets, file, spacing, kubernetes(raw.kubernetes(), where), FleetKeys.resolve(raw.fleet(), where,
                values.env("POD_NAMESPACE")));
    }

    /** How every target is walked: the resolver, trust, proxy, credential and containerd settings. */
    private ProbeOptions probeOptions(RawConfig raw, String where, Duration timeout, boolean traceroute) {
        List<InetSocketAddress> resolvers = new ArrayList<>();
        if (raw.resolvers() != null) {
            for (int i = 0; i < raw.resolvers().size(); i++) {
                try {
                    resolvers.add(ProbeOptions.parseResolver(raw.resolvers().get(i)));
                } catch (ConfigException e) {
                    throw new ConfigException(where + "resolvers[" + i + "]: " + e.getMessage());
                }
            }
        }
        try {
            // Inside the try, as every value here: ProxySettings' and ProbeOptions' messages get the file's name.
            ProxySettings proxies = raw.proxy() == null
                    ? ContainerdUnit.proxies(raw.containerdUnitRoot(), values.environment())
                    : ProxySettings.of(where + "proxy.url", raw.proxy().url(), where + "proxy.noProxy",
                    raw.proxy().noProxy());
            return new ProbeOptions(timeout,
                    raw.maxAddresses() == null ? ProbeOptions.DEFAULT_MAX_ADDRESSES : raw.maxAddresses(), resolvers,
                    raw.resolvConf() == null ? Path.of("/etc/resolv.conf") : raw.resolvConf(),
                    raw.hostsFile() == null ? Path.of("/etc/hosts") : raw.hostsFile(),
                    raw.caFiles() == null ? List.of() : raw.caFiles(), ProbeOptions.DEFAULT_MAX_BODY_BYTES,
                    proxies, credentials(raw.credentials(), where),
                    raw.containerdCertsDir() == null ? ContainerdHosts.DEFAULT_DIR : raw.containerdCertsDir(),
                    traceroute, raw.containerdVersion() == null ? ContainerdVersion.ASSUMED
                            : ContainerdVersion.parse(raw.containerdVersion(), "containerdVersion"));
        } catch (ConfigException e) {
            throw new ConfigException(where + e.getMessage().replace("--", ""));
        }
    }

    private KubernetesOptions kubernetes(RawKubernetes raw, String where) {
        boolean enabled = values.envOr("PULLPATH_KUBERNETES", ConfigValues::bool,
                raw == null ? null : raw.enabled(), false);
        if (raw == null) {
            return new KubernetesOptions(enabled, KubernetesOptions.DEFAULT_HEARTBEAT,
                    KubernetesOptions.DEFAULT_DIAGNOSIS_SPACING, KubernetesOptions.DEFAULT_MAX_CONCURRENT_DIAGNOSES,
                    false);
        }
        Duration heartbeat = raw.heartbeat() == null ? KubernetesOptions.DEFAULT_HEARTBEAT : raw.heartbeat();
        if (heartbeat.compareTo(Duration.ofSeconds(10)) < 0 || heartbeat.compareTo(Duration.ofHours(1)) > 0) {
            throw new ConfigException(where + "kubernetes.heartbeat: 10s-1h (every node patches its status this "
                    + "often)");
        }
        Duration spacing = raw.diagnosisSpacing() == null ? KubernetesOptions.DEFAULT_DIAGNOSIS_SPACING
                : raw.diagnosisSpacing();
        if (spacing.compareTo(Duration.ofMinutes(1)) < 0) {
            throw new ConfigException(where + "kubernetes.diagnosisSpacing: at least 1m (a pod in ImagePullBackOff "
                    + "must not turn into a probe loop against the registry)");
        }
        int concurrent = raw.maxConcurrentDiagnoses() == null ? KubernetesOptions.DEFAULT_MAX_CONCURRENT_DIAGNOSES
                : raw.maxConcurrentDiagnoses();
        if (concurrent < 1 || concurrent > 8) {
            throw new ConfigException(where + "kubernetes.maxConcurrentDiagnoses: must be 1-8");
        }
        return new KubernetesOptions(enabled, heartbeat, spacing, concurrent,
                Boolean.TRUE.equals(raw.readPullSecrets()));
    }

    private static CredentialSettings credentials(RawCredentials raw, String where) {
        if (raw == null) {
            return CredentialSettings.NONE;
        }
        Duration timeout = raw.timeout() == null ? Duration.ofSeconds(10) : raw.timeout();
        if (timeout.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new ConfigException(where + "credentials.timeout: at most 1m (the kubelet's own limit)");
        }
        if (raw.credentialProviderBinDir() != null && raw.credentialProviderConfig() == null) {
            throw new ConfigException(where + "credentials.credentialProviderBinDir: set credentialProviderConfig "
                    + "too");
        }
        // The pod's own HOME and DOCKER_CONFIG say nothing about the node: only the named files are read.
        return CredentialSettings.ofNode(raw.dockerConfig(), raw.registryConfig(), raw.credentialProviderConfig(),
                raw.credentialProviderBinDir(), timeout);
    }
}
