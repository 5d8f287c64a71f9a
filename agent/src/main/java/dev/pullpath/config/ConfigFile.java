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
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The configuration file's shape and how it is read: YAML into the raw records below, strictly (unknown keys,
 * duplicate keys and wrong types are errors), with every error naming the file, the line and the key
 * ({@code config.yaml:7:14: targets[0].interval: ...}), because the person reading it is editing a ConfigMap.
 * Defaults, the environment and the checks across keys are {@link ConfigLoader}'s.
 */
final class ConfigFile {

    /** The file's shape. Unknown keys are errors: a typo must not silently fall back to a default. */
    record RawConfig(InetSocketAddress listen, String node, String zone, Duration interval, Duration registryInterval,
                     Duration timeout, Integer maxConcurrentProbes, Boolean allowUnconfiguredProbes,
                     Boolean phaseHistograms, Boolean traceroute, Integer maxAddresses, List<String> resolvers,
                     Path resolvConf, Path hostsFile, List<Path> caFiles, RawProxy proxy, Path containerdCertsDir,
                     String containerdVersion, Path containerdUnitRoot, RawCredentials credentials,
                     String onDemandSpacing, RawKubernetes kubernetes, RawFleet fleet, List<RawTarget> targets) {
        /** No file, or an empty one: every key at its default. */
        static final RawConfig EMPTY = new RawConfig(null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /** {@code fleet:}: the registries' fleet-wide budget and where the fleet's size comes from (see {@link FleetOptions}). */
    record RawFleet(Double registryBudget, Integer size, String daemonSet, String namespace, String service,
                    String dnsServer, Duration refresh) {
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

        /** A target given only by its address (the environment's PULLPATH_TARGETS, the default target). */
        static RawTarget of(Target url) {
            return new RawTarget(null, url, null, null, null, null, null, null, null, null, null, null, null);
        }
    }

    /** Private ECR: expands to its registry, API and layer-bucket endpoints (see {@link PrivateEcr}). */
    record RawEcr(String region, String account) {
    }

    private final ObjectMapper yaml;

    ConfigFile() {
        SimpleModule values = new SimpleModule("pullpath-config")
                .addDeserializer(Duration.class, parsing(Durations::parse, Duration.class))
                .addDeserializer(Target.class, parsing(Target::parse, Target.class))
                .addDeserializer(InetSocketAddress.class, parsing(ConfigValues::listenAddress,
                        InetSocketAddress.class))
                .addDeserializer(TargetKind.class, parsing(TargetKind::parse, TargetKind.class));
        this.yaml = new ObjectMapper(new YAMLFactory())
                .registerModule(values)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    }

    /** The raw keys of YAML text read as if from {@code file} (the name only appears in messages). */
    RawConfig read(String text, Path file) {
        RawConfig raw;
        try {
            raw = text.isBlank() ? null : yaml.readValue(text, RawConfig.class);
        } catch (JsonProcessingException e) {
            throw new ConfigException(describe(file, text, e));
        } catch (ConfigException e) {
            throw new ConfigException(file + ": " + e.getMessage());
        }
        return raw == null ? RawConfig.EMPTY : raw;
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
            Pattern key = Pattern.compile("^(\\s*(?:-\\s+)?)" + Pattern.quote(u.getPropertyName()) + "\\s*:");
            for (int i = 0; i < lines.length; i++) {
                Matcher m = key.matcher(lines[i]);
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
            String suffix = "." + u.getPropertyName();
            key = key.endsWith(suffix) ? key.substring(0, key.length() - suffix.length()) : key;
        } else if (e instanceof InvalidFormatException f && !isJacksonScalar(f.getTargetType())) {
            problem = f.getOriginalMessage();
        } else if (e instanceof MismatchedInputException m) {
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
