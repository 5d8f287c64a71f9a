package dev.pullpath.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads the daemon's YAML configuration, applies the environment over it and the defaults under it, and checks it.
 * Every error names the file, the line and the key ({@code config.yaml:7:14: targets[0].interval: ...}), because the
 * person reading it is editing a ConfigMap.
 */
public final class ConfigLoader {
    public static final Path DEFAULT_PATH = Path.of("/etc/pullpath/config.yaml");
    public static final int DEFAULT_PORT = 9847;
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
    public static final Duration DEFAULT_REGISTRY_INTERVAL = Duration.ofMinutes(5);
    public static final String DEFAULT_TARGET = "public.ecr.aws";
    static final long MAX_FILE_BYTES = 1024 * 1024;
    private static final Duration MIN_INTERVAL = Duration.ofSeconds(1);
    private static final Duration MIN_REGISTRY_INTERVAL = Duration.ofSeconds(10);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}");
    private static final Pattern LABEL_KEY = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]{0,62}");
    private static final int MAX_TARGETS = 64;

    /** The file's shape. Unknown keys are errors: a typo must not silently fall back to a default. */
    record RawConfig(InetSocketAddress listen, String node, String zone, Duration interval, Duration registryInterval,
                     Duration timeout, Integer maxConcurrentProbes, Boolean allowUnconfiguredProbes,
                     Boolean phaseHistograms, Boolean traceroute, Integer maxAddresses, List<String> resolvers,
                     Path resolvConf, Path hostsFile, List<Path> caFiles, RawProxy proxy, Path containerdCertsDir,
                     RawCredentials credentials, String onDemandSpacing, RawKubernetes kubernetes,
                     List<RawTarget> targets) {
        /** No file, or an empty one: every key at its default. */
        static final RawConfig EMPTY = new RawConfig(null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null, null, null);
    }

    /** {@code kubernetes:}: the node condition, Events and pod diagnoses (see {@link KubernetesOptions}). */
    record RawKubernetes(Boolean enabled, Duration heartbeat, Duration diagnosisSpacing,
                         Integer maxConcurrentDiagnoses, Boolean readPullSecrets) {
    }

    /**
     * Where the node keeps the logins a pull would send (mounted read-only into the pod): Docker's and Helm's
     * config files, and the kubelet's image credential provider. None is read unless named.
     */
    record RawCredentials(Path dockerConfig, Path registryConfig, Path credentialProviderConfig,
                          Path credentialProviderBinDir, Duration timeout) {
    }

    /** An HTTPS proxy as containerd would use it; without one, HTTPS_PROXY/NO_PROXY of the environment apply. */
    record RawProxy(String url, String noProxy) {
    }

    /**
     * One target as written. {@code credentials} is reserved for the registry credential settings of a later
     * release; it is rejected, not ignored, until they exist.
     */
    record RawTarget(String name, Target url, String host, Integer port, TargetKind kind, Duration interval,
                     Duration registryInterval, Duration timeout, Map<String, String> labels,
                     RawProxy proxy, Map<String, Object> credentials, RawEcr ecr, String image) {
    }

    /** Private ECR: expands to its registry, API and layer-bucket endpoints (see {@link PrivateEcr}). */
    record RawEcr(String region, String account) {
    }

    private final ObjectMapper yaml;
    private final Function<String, String> env;

    public ConfigLoader(Function<String, String> env) {
        this.env = env;
        SimpleModule values = new SimpleModule("pullpath-config")
                .addDeserializer(Duration.class, parsing(Durations::parse, Duration.class))
                .addDeserializer(Target.class, parsing(Target::parse, Target.class))
                .addDeserializer(InetSocketAddress.class, parsing(ConfigLoader::listenAddress, InetSocketAddress.class))
                .addDeserializer(TargetKind.class, parsing(TargetKind::parse, TargetKind.class));
        this.yaml = new ObjectMapper(new YAMLFactory())
                .registerModule(values)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
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
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new ConfigException(file + ": larger than 1 MiB");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
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
        RawConfig raw;
        try {
            raw = text.isBlank() ? null : yaml.readValue(text, RawConfig.class);
        } catch (JsonProcessingException e) {
            throw new ConfigException(describe(file, text, e));
        } catch (ConfigException e) {
            throw new ConfigException(file + ": " + e.getMessage());
        }
        if (raw == null) {
            raw = RawConfig.EMPTY;
        }
        return resolve(raw, file.toString(), file);
    }

    private AgentConfig resolve(RawConfig raw, String source, Path file) {
        String where = file == null ? "" : file + ": ";
        InetSocketAddress listen = envOr("PULLPATH_LISTEN", ConfigLoader::listenAddress, raw.listen,
                new InetSocketAddress("0.0.0.0", DEFAULT_PORT));
        Duration interval = envOr("PULLPATH_INTERVAL", Durations::parse, raw.interval, DEFAULT_INTERVAL);
        Duration registryInterval = envOr("PULLPATH_REGISTRY_INTERVAL", Durations::parse, raw.registryInterval,
                DEFAULT_REGISTRY_INTERVAL);
        Duration timeout = envOr("PULLPATH_TIMEOUT", Durations::parse, raw.timeout, ProbeOptions.DEFAULT_TIMEOUT);
        int maxConcurrent = envOr("PULLPATH_MAX_CONCURRENT_PROBES", ConfigLoader::positiveInt,
                raw.maxConcurrentProbes, 4);
        boolean allowUnconfigured = envOr("PULLPATH_ALLOW_UNCONFIGURED_PROBES", ConfigLoader::bool,
                raw.allowUnconfiguredProbes, false);
        boolean phaseHistograms = envOr("PULLPATH_PHASE_HISTOGRAMS", ConfigLoader::bool, raw.phaseHistograms, true);
        boolean traceroute = envOr("PULLPATH_TRACEROUTE", ConfigLoader::bool, raw.traceroute, true);
        String node = envOr("NODE_NAME", s -> s, raw.node, localHostName());
        String zone = envOr("PULLPATH_ZONE", s -> s, raw.zone, "");
        if (maxConcurrent < 1 || maxConcurrent > 64) {
            throw new ConfigException(where + "maxConcurrentProbes: must be 1-64");
        }
        List<java.net.InetSocketAddress> resolvers = new ArrayList<>();
        if (raw.resolvers != null) {
            for (int i = 0; i < raw.resolvers.size(); i++) {
                try {
                    resolvers.add(ProbeOptions.parseResolver(raw.resolvers.get(i)));
                } catch (ConfigException e) {
                    throw new ConfigException(where + "resolvers[" + i + "]: " + e.getMessage());
                }
            }
        }
        ProbeOptions probe;
        try {
            probe = new ProbeOptions(timeout, raw.maxAddresses == null ? ProbeOptions.DEFAULT_MAX_ADDRESSES
                    : raw.maxAddresses, resolvers, raw.resolvConf == null ? Path.of("/etc/resolv.conf") : raw.resolvConf,
                    raw.hostsFile == null ? Path.of("/etc/hosts") : raw.hostsFile,
                    raw.caFiles == null ? List.of() : raw.caFiles, ProbeOptions.DEFAULT_MAX_BODY_BYTES,
                    raw.proxy == null ? ProxySettings.fromEnvironment(env)
                            : ProxySettings.of(where + "proxy.url", raw.proxy.url, where + "proxy.noProxy",
                            raw.proxy.noProxy), credentialStores(raw.credentials, where),
                    raw.containerdCertsDir == null ? ContainerdHosts.DEFAULT_DIR : raw.containerdCertsDir, traceroute);
        } catch (ConfigException e) {
            throw new ConfigException(where + e.getMessage().replace("--", ""));
        }

        List<RawTarget> rawTargets = raw.targets;
        String fromEnv = env.apply("PULLPATH_TARGETS");
        if (fromEnv != null && !fromEnv.isBlank()) {
            rawTargets = new ArrayList<>();
            for (String spec : fromEnv.split(",")) {
                if (!spec.isBlank()) {
                    rawTargets.add(new RawTarget(null, parseEnv("PULLPATH_TARGETS", Target::parse, spec.trim()), null,
                            null, null, null, null, null, null, null, null, null, null));
                }
            }
        }
        if (rawTargets == null || rawTargets.isEmpty()) {
            rawTargets = List.of(new RawTarget(null, Target.parse(DEFAULT_TARGET), null, null, null, null, null, null,
                    null, null, null, null, null));
        }
        if (rawTargets.size() > MAX_TARGETS) {
            throw new ConfigException(where + "targets: at most " + MAX_TARGETS + " targets per agent");
        }
        List<TargetConfig> targets = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < rawTargets.size(); i++) {
            for (RawTarget entry : expand(rawTargets.get(i), where + "targets[" + i + "]")) {
                TargetConfig t = target(entry, where + "targets[" + i + "]", interval, registryInterval, timeout);
                if (!names.add(t.name())) {
                    throw new ConfigException(where + "targets[" + i + "].name: duplicate target name '" + t.name()
                            + "'");
                }
                targets.add(t);
            }
        }
        // Zero is allowed here, unlike any interval: a benchmark against one's own endpoint wants every /probe run.
        Duration spacing;
        try {
            spacing = raw.onDemandSpacing == null ? AgentConfig.DEFAULT_ON_DEMAND_SPACING
                    : raw.onDemandSpacing.strip().matches("0+(ms|s)?") ? Duration.ZERO
                    : Durations.parse(raw.onDemandSpacing);
        } catch (ConfigException e) {
            throw new ConfigException(where + "onDemandSpacing: " + e.getMessage());
        }
        return new AgentConfig(source, listen, node, zone, maxConcurrent, allowUnconfigured, phaseHistograms, probe,
                targets, file, spacing, kubernetes(raw.kubernetes, where));
    }

    private KubernetesOptions kubernetes(RawKubernetes raw, String where) {
        boolean enabled = envOr("PULLPATH_KUBERNETES", ConfigLoader::bool, raw == null ? null : raw.enabled, false);
        if (raw == null) {
            return new KubernetesOptions(enabled, KubernetesOptions.DEFAULT_HEARTBEAT,
                    KubernetesOptions.DEFAULT_DIAGNOSIS_SPACING, KubernetesOptions.DEFAULT_MAX_CONCURRENT_DIAGNOSES,
                    false);
        }
        Duration heartbeat = raw.heartbeat == null ? KubernetesOptions.DEFAULT_HEARTBEAT : raw.heartbeat;
        if (heartbeat.compareTo(Duration.ofSeconds(10)) < 0 || heartbeat.compareTo(Duration.ofHours(1)) > 0) {
            throw new ConfigException(where + "kubernetes.heartbeat: 10s-1h (every node patches its status this often)");
        }
        Duration spacing = raw.diagnosisSpacing == null ? KubernetesOptions.DEFAULT_DIAGNOSIS_SPACING
                : raw.diagnosisSpacing;
        if (spacing.compareTo(Duration.ofMinutes(1)) < 0) {
            throw new ConfigException(where + "kubernetes.diagnosisSpacing: at least 1m (a pod in ImagePullBackOff "
                    + "must not turn into a probe loop against the registry)");
        }
        int concurrent = raw.maxConcurrentDiagnoses == null ? KubernetesOptions.DEFAULT_MAX_CONCURRENT_DIAGNOSES
                : raw.maxConcurrentDiagnoses;
        if (concurrent < 1 || concurrent > 8) {
            throw new ConfigException(where + "kubernetes.maxConcurrentDiagnoses: must be 1-8");
        }
        return new KubernetesOptions(enabled, heartbeat, spacing, concurrent, Boolean.TRUE.equals(raw.readPullSecrets));
    }

    private static dev.pullpath.credentials.CredentialStores credentialStores(RawCredentials raw, String where) {
        if (raw == null) {
            return dev.pullpath.credentials.CredentialStores.none();
        }
        Duration timeout = raw.timeout == null ? Duration.ofSeconds(10) : raw.timeout;
        if (timeout.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new ConfigException(where + "credentials.timeout: at most 1m (the kubelet's own limit)");
        }
        if (raw.credentialProviderBinDir != null && raw.credentialProviderConfig == null) {
            throw new ConfigException(where + "credentials.credentialProviderBinDir: set credentialProviderConfig "
                    + "too");
        }
        // The pod's own HOME and DOCKER_CONFIG say nothing about the node: only the named files are read.
        dev.pullpath.credentials.CredentialStores stores = new dev.pullpath.credentials.CredentialStores(
                raw.registryConfig, raw.dockerConfig, timeout, k -> null);
        if (raw.credentialProviderConfig != null) {
            Path bin = raw.credentialProviderBinDir != null ? raw.credentialProviderBinDir
                    : raw.credentialProviderConfig.toAbsolutePath().getParent();
            stores.withKubeletProvider(new dev.pullpath.credentials.KubeletCredentialProvider(
                    raw.credentialProviderConfig, bin, timeout));
        }
        return stores;
    }

    /**
     * An {@code ecr:} entry becomes private ECR's three endpoints: the registry walks the whole path, the API and the
     * layer bucket stop at TLS (they are not registries). Its other settings apply to all three.
     */
    private static List<RawTarget> expand(RawTarget raw, String key) {
        if (raw == null || raw.ecr == null) {
            return java.util.Collections.singletonList(raw);
        }
        if (raw.url != null || raw.host != null || raw.name != null || raw.kind != null) {
            throw new ConfigException(key + ".ecr: an ecr target names its endpoints itself; drop url, host, name "
                    + "and kind");
        }
        List<Target> endpoints;
        try {
            endpoints = PrivateEcr.endpoints(raw.ecr.region, raw.ecr.account);
        } catch (ConfigException e) {
            throw new ConfigException(key + ".ecr: " + e.getMessage().replace("--ecr-", ""));
        }
        return endpoints.stream().map(t -> new RawTarget(null, t, null, null,
                TargetKind.defaultFor(t.host()), raw.interval,
                raw.registryInterval, raw.timeout, raw.labels, raw.proxy, raw.credentials, null, null)).toList();
    }

    private static TargetConfig target(RawTarget raw, String key, Duration interval, Duration registryInterval,
                                       Duration timeout) {
        if (raw == null) {
            throw new ConfigException(key + ": empty target");
        }
        if (raw.credentials != null) {
            throw new ConfigException(key + ".credentials: credential sources are set once, at the top level "
                    + "(credentials: dockerConfig, registryConfig, credentialProviderConfig), as on the node");
        }
        Target target;
        if (raw.url != null && raw.host != null) {
            throw new ConfigException(key + ": give either url or host (with port), not both");
        } else if (raw.url != null) {
            if (raw.port != null) {
                throw new ConfigException(key + ".port: the port goes into the url");
            }
            target = raw.url;
        } else if (raw.host != null) {
            int port = raw.port == null ? Target.HTTPS_PORT : raw.port;
            try {
                target = Target.parse(raw.host.contains(":") && !raw.host.startsWith("[") ? "[" + raw.host + "]:" + port
                        : raw.host + ":" + port);
            } catch (ConfigException e) {
                throw new ConfigException(key + ".host: " + e.getMessage());
            }
        } else {
            throw new ConfigException(key + ": a target needs url or host");
        }
        String name = raw.name != null ? raw.name : target.port() == Target.HTTPS_PORT ? target.host()
                : target.host() + ":" + target.port();
        if (!NAME.matcher(name).matches()) {
            throw new ConfigException(key + ".name: '" + name + "' must be 1-63 characters of letters, digits and "
                    + "_ . : - (it becomes a metric label)");
        }
        Duration ti = raw.interval != null ? raw.interval : interval;
        Duration tr = raw.registryInterval != null ? raw.registryInterval : registryInterval;
        Duration tt = raw.timeout != null ? raw.timeout : timeout;
        // A value inherited from the top level is reported at the top level, where it was written.
        String where = key.substring(0, Math.max(0, key.indexOf("targets[")));
        if (ti.compareTo(MIN_INTERVAL) < 0) {
            throw new ConfigException((raw.interval != null ? key + "." : where) + "interval: at least 1s");
        }
        if (tr.compareTo(MIN_REGISTRY_INTERVAL) < 0) {
            throw new ConfigException((raw.registryInterval != null ? key + "." : where) + "registryInterval: at "
                    + "least 10s (registries rate-limit every node behind a NAT together)");
        }
        if (tr.compareTo(ti) < 0) {
            tr = ti;
        }
        if (tt.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new ConfigException((raw.timeout != null ? key + "." : where) + "timeout: at most 1m per phase");
        }
        Map<String, String> labels = raw.labels == null ? Map.of() : new LinkedHashMap<>(raw.labels);
        for (Map.Entry<String, String> l : labels.entrySet()) {
            if (l.getValue() == null) {
                throw new ConfigException(key + ".labels." + l.getKey() + ": a label needs a value");
            }
            if (!LABEL_KEY.matcher(l.getKey()).matches() || l.getValue().length() > 128) {
                throw new ConfigException(key + ".labels." + l.getKey() + ": label keys are [a-zA-Z_][a-zA-Z0-9_]*, "
                        + "values at most 128 characters");
            }
        }
        ProxySettings proxies = raw.proxy == null ? null : ProxySettings.of(key + ".proxy.url", raw.proxy.url,
                key + ".proxy.noProxy", raw.proxy.noProxy);
        TargetKind kind = raw.kind == null ? TargetKind.REGISTRY : raw.kind;
        return new TargetConfig(name, new Target(name, target.host(), target.port()), kind, ti, tr, tt, labels,
                proxies, image(raw.image, key, target, kind));
    }

    /**
     * A target's {@code image}: the one written (its registry host may lead it), {@code none} for no layer hop,
     * or for public.ecr.aws {@link TargetConfig#PUBLIC_ECR_DEFAULT_IMAGE}. Only a registry target fetches one.
     */
    private static String image(String written, String key, Target target, TargetKind kind) {
        if (written == null) {
            return kind == TargetKind.REGISTRY && target.host().equals(DEFAULT_TARGET)
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
                    : written)
                    + "': expected REPOSITORY:TAG or REPOSITORY@sha256:DIGEST (or none)");
        }
        return reference;
    }

    private <T> T envOr(String variable, Function<String, T> parse, T fromFile, T fallback) {
        String value = env.apply(variable);
        if (value != null && !value.isBlank()) {
            return parseEnv(variable, parse, value.trim());
        }
        return fromFile != null ? fromFile : fallback;
    }

    private static <T> T parseEnv(String variable, Function<String, T> parse, String value) {
        try {
            return parse.apply(value);
        } catch (ConfigException e) {
            throw new ConfigException("environment " + variable + ": " + e.getMessage());
        }
    }

    static InetSocketAddress listenAddress(String text) {
        String s = text.trim();
        int colon = s.lastIndexOf(':');
        if (colon < 0) {
            throw new ConfigException("listen '" + text + "': expected HOST:PORT or :PORT");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65_535) {
            throw new ConfigException("listen '" + text + "': port must be 0-65535 (0: any free port)");
        }
        if (host.isEmpty()) {
            host = "0.0.0.0";
        }
        if (!IpLiterals.isLiteral(host)) {
            throw new ConfigException("listen '" + text + "': give an IP address to bind, not a name");
        }
        return new InetSocketAddress(IpLiterals.parse(host), port);
    }

    private static int positiveInt(String text) {
        try {
            int v = Integer.parseInt(text.trim());
            if (v < 1) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new ConfigException("'" + text + "' is not a positive whole number");
        }
    }

    private static boolean bool(String text) {
        return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "1", "yes" -> true;
            case "false", "0", "no" -> false;
            default -> throw new ConfigException("'" + text + "' is not true or false");
        };
    }

    /** The kernel's host name: no resolver involved (InetAddress.getLocalHost() may ask DNS). */
    private static String localHostName() {
        try {
            String h = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            return h.isEmpty() ? "unknown" : h;
        } catch (IOException | SecurityException e) {
            String h = System.getenv("HOSTNAME");
            return h == null || h.isBlank() ? "unknown" : h;
        }
    }

    /** A deserializer that parses a scalar with our own parser, so its message and the YAML location survive. */
    private static <T> JsonDeserializer<T> parsing(Function<String, T> parser, Class<T> type) {
        return new JsonDeserializer<>() {
            @Override
            public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
                if (!p.currentToken().isScalarValue()) {
                    throw InvalidFormatException.from(p, "expected a single value, not a list or map", null, type);
                }
                String text = p.getValueAsString();
                try {
                    return parser.apply(text);
                } catch (ConfigException e) {
                    throw InvalidFormatException.from(p, e.getMessage(), text, type);
                }
            }
        };
    }

    /** {@code file:line:column: key: problem}, from whatever Jackson says went wrong. */
    static String describe(Path file, String text, JsonProcessingException e) {
        // Where the offending token starts: the parser may have moved past it already.
        JsonLocation loc = e.getProcessor() instanceof JsonParser p && p.currentTokenLocation() != null
                && p.currentTokenLocation().getLineNr() > 0 ? p.currentTokenLocation() : e.getLocation();
        String at = file + (loc == null || loc.getLineNr() < 1 ? "" : ":" + loc.getLineNr() + ":" + loc.getColumnNr());
        if (e instanceof UnrecognizedPropertyException u) {
            // Records are read whole before unknown keys are reported, so find the key in the text instead.
            String[] lines = text.split("\n", -1);
            java.util.regex.Pattern key = java.util.regex.Pattern.compile(
                    "^(\\s*(?:-\\s+)?)" + java.util.regex.Pattern.quote(u.getPropertyName()) + "\\s*:");
            for (int i = 0; i < lines.length; i++) {
                java.util.regex.Matcher m = key.matcher(lines[i]);
                if (m.find()) {
                    at = file + ":" + (i + 1) + ":" + (m.group(1).length() + 1);
                    break;
                }
            }
        }
        String key = e instanceof JsonMappingException m ? path(m) : "";
        String problem;
        if (e instanceof UnrecognizedPropertyException u) {
            problem = "unknown key '" + u.getPropertyName() + "'" + (u.getKnownPropertyIds() == null ? ""
                    : " (known: " + u.getKnownPropertyIds().stream().map(String::valueOf).sorted()
                    .collect(Collectors.joining(", ")) + ")");
            key = key.endsWith("." + u.getPropertyName()) ? key.substring(0, key.length() - u.getPropertyName().length() - 1)
                    : key;
        } else if (e instanceof InvalidFormatException f && !isJacksonScalar(f.getTargetType())) {
            problem = f.getOriginalMessage();
        } else if (e instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException m) {
            problem = "wrong type: expected " + simpleType(m.getTargetType());
        } else {
            problem = "YAML syntax: " + firstLine(e.getOriginalMessage());
        }
        return at + ": " + (key.isEmpty() ? "" : key + ": ") + problem;
    }

    private static String path(JsonMappingException m) {
        StringBuilder b = new StringBuilder();
        for (JsonMappingException.Reference r : m.getPath()) {
            if (r.getIndex() >= 0) {
                b.append('[').append(r.getIndex()).append(']');
            } else if (r.getFieldName() != null) {
                b.append(b.length() == 0 ? "" : ".").append(r.getFieldName());
            }
        }
        return b.toString();
    }

    /** Types Jackson converts itself: its own message is about Java types, ours names what the YAML needs. */
    private static boolean isJacksonScalar(Class<?> type) {
        return type != null && (Number.class.isAssignableFrom(type) || type.isPrimitive() || type == Boolean.class);
    }

    private static String simpleType(Class<?> type) {
        if (type == null) {
            return "something else";
        }
        if (Number.class.isAssignableFrom(type) || type == int.class) {
            return "a number";
        }
        if (type == Boolean.class) {
            return "true or false";
        }
        if (List.class.isAssignableFrom(type)) {
            return "a list";
        }
        if (Map.class.isAssignableFrom(type) || type.isRecord()) {
            return "a map";
        }
        return "a text value";
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
