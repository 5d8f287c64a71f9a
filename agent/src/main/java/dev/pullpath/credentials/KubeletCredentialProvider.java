package dev.pullpath.credentials;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pullpath.diagnosis.Redaction;
import dev.pullpath.gocompat.FilepathMatch;
import dev.pullpath.gocompat.GoDuration;
import dev.pullpath.gocompat.GoUrl;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs the kubelet's image credential provider plugins (KEP-2133: {@code ecr-credential-provider} on EKS nodes) the
 * way the kubelet does, so a diagnosis sees the credentials the kubelet would send, or why it has none.
 *
 * <p>What is mirrored, from {@code pkg/credentialprovider/plugin} ({@code config.go}, {@code plugin.go}) and
 * {@code pkg/credentialprovider/keyring.go}:
 * <ul>
 * <li>The config ({@code --image-credential-provider-config}) is JSON or YAML, {@code kind: CredentialProviderConfig}
 *     in group {@code kubelet.config.k8s.io} (v1, v1beta1, v1alpha1), decoded strictly (unknown or repeated fields
 *     are errors); a directory means its {@code *.json}, {@code *.yaml}, {@code *.yml} files in lexical order,
 *     merged. Any error there, a failed validation, a missing bin dir or a provider binary that is missing or not
 *     executable makes the kubelet exit at startup, so they are reported whatever image is asked about.</li>
 * <li>A provider runs only if one of its {@code matchImages} matches the image, as
 *     {@code bin-dir/name args...} with the node's environment plus its {@code env}, the
 *     {@code CredentialProviderRequest} on stdin and the response read from stdout.</li>
 * <li>The image sent is what the kubelet sends: the repository without tag or digest, Docker-normalised
 *     ({@code busybox:1} becomes {@code docker.io/library/busybox}).</li>
 * <li>The response must carry the provider's configured apiVersion, kind {@code CredentialProviderResponse}, a
 *     {@code cacheKeyType} of Image, Registry or Global, and decode strictly; otherwise the kubelet drops it.</li>
 * <li>Of its {@code auth} entries, those whose key matches the image are the credentials, most specific first
 *     (the kubelet's keyring order).</li>
 * </ul>
 * Deliberate differences: nothing is cached (a diagnosis wants the provider's answer now, not the kubelet's memory of
 * it); the wait is the caller's timeout capped at the kubelet's one minute, and on timeout the provider's child
 * processes are killed too, not just the provider; providers that need a pod's service account token
 * ({@code tokenAttributes}) are not run, since there is no pod to mint one for. Blocking: call it off any event loop.
 */
public final class KubeletCredentialProvider {
    static final String SOURCE = "kubelet-credential-provider";

    /** The kubelet's catch-all exec timeout (plugin.go: {@code context.WithTimeout(ctx, 1*time.Minute)}). */
    private static final Duration KUBELET_EXEC_TIMEOUT = Duration.ofMinutes(1);
    private static final long MAX_CONFIG = 1024 * 1024;
    private static final int MAX_CONFIG_FILES = 64;
    private static final int MAX_OUTPUT = 64 * 1024;
    /** {@link Redaction#snippet} appends "..." when it cuts, so 297 keeps the shown stderr within 300 characters. */
    private static final int MAX_STDERR_SHOWN = 297;
    private static final int MAX_IMAGE = 4096;
    private static final Duration POLL = Duration.ofMillis(50);
    private static final String STARTUP = "; the kubelet exits at startup with this configuration";

    private static final String CONFIG_KIND = "CredentialProviderConfig";
    private static final String CONFIG_GROUP = "kubelet.config.k8s.io";
    private static final Set<String> CONFIG_VERSIONS = Set.of(CONFIG_GROUP + "/v1", CONFIG_GROUP + "/v1beta1",
            CONFIG_GROUP + "/v1alpha1");
    private static final Set<String> PLUGIN_VERSIONS = Set.of("credentialprovider.kubelet.k8s.io/v1",
            "credentialprovider.kubelet.k8s.io/v1beta1", "credentialprovider.kubelet.k8s.io/v1alpha1");
    private static final String RESPONSE_KIND = "CredentialProviderResponse";
    private static final Set<String> CACHE_KEY_TYPES = Set.of("Image", "Registry", "Global");
    private static final Set<String> CONFIG_FIELDS = Set.of("apiVersion", "kind", "providers");
    private static final Set<String> PROVIDER_FIELDS = Set.of("name", "matchImages", "defaultCacheDuration",
            "apiVersion", "args", "env", "tokenAttributes");
    private static final Set<String> RESPONSE_FIELDS = Set.of("apiVersion", "kind", "cacheKeyType", "cacheDuration",
            "serviceAccountTokenCacheType", "auth");

    // Strict like the kubelet's codecs (serializer.EnableStrict): a repeated field is an error, as is trailing
    // content after the JSON value (Go's json.Unmarshal refuses it).
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    private final Path configFile;
    private final Path binDir;
    private final Duration timeout;
    /**
     * Answers kept as the kubelet keeps them (cacheKeyType, cacheDuration, else the provider's
     * defaultCacheDuration): a daemon probing every few minutes must not call the provider, and through it the
     * cloud's token API, more often than the kubelet does. Failures are not kept, as the kubelet does not keep them.
     */
    private final Map<String, Cached> cache = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_CACHED = 256;

    private record Cached(long expiresAtNanos, List<Credential> credentials) {
    }

    /** The kubelet's cache key: the image for cacheKeyType Image, the registry for Registry, nothing for Global. */
    private static String cacheKey(String provider, String keyType, String image, String registry) {
        String key = switch (keyType) {
            case "Image" -> image;
            case "Registry" -> registry;
            default -> "";
        };
        return provider + "\u0000" + keyType + "\u0000" + key;
    }

    /** What an answer says about keeping it: filled in by {@link #answer} for a usable answer. */
    private static final class CacheHint {
        String keyType;
        Duration duration;
    }

    /**
     * @param configFile the kubelet's {@code --image-credential-provider-config} (file or directory)
     * @param binDir     the kubelet's {@code --image-credential-provider-bin-dir}
     * @param timeout    how long one provider may take (capped at the kubelet's one minute)
     */
    public KubeletCredentialProvider(Path configFile, Path binDir, Duration timeout) {
        this.configFile = configFile;
        this.binDir = binDir;
        Duration t = timeout == null || timeout.isNegative() || timeout.isZero() ? KUBELET_EXEC_TIMEOUT : timeout;
        this.timeout = t.compareTo(KUBELET_EXEC_TIMEOUT) > 0 ? KUBELET_EXEC_TIMEOUT : t;
    }

    /**
     * The credentials the kubelet's providers give for pulling {@code image} (a reference such as
     * {@code 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1}, or a bare registry host), each usable one first
     * in the order the kubelet tries them; a broken config or provider is a credential with a problem. Never throws;
     * no config file means no providers (an empty list).
     */
    public List<Credential> find(String image) {
        try {
            return findUnchecked(image);
        } catch (RuntimeException e) {
            // A bug here must not take a diagnosis down; it becomes evidence like any other failure.
            String registry = image == null ? "" : registryOf(image.strip());
            return List.of(new Credential(registry, SOURCE, String.valueOf(configFile), null, null, null,
                    "could not evaluate the credential providers: " + Redaction.snippet(String.valueOf(e), 200)));
        }
    }

    private List<Credential> findUnchecked(String rawImage) {
        if (configFile == null || rawImage == null || rawImage.isBlank() || !Files.exists(configFile)) {
            return List.of();
        }
        String image = repository(rawImage.strip());
        String registry = registryOf(image);
        if (image.length() > MAX_IMAGE || image.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
            return List.of(new Credential(Redaction.snippet(registry, 200), SOURCE, configFile.toString(), null,
                    null, null, "'" + Redaction.snippet(rawImage, 120) + "' is not an image reference the kubelet"
                    + " would pull; no provider runs for it"));
        }
        List<Provider> providers;
        try {
            providers = readConfig(configFile);
        } catch (ProviderConfigException e) {
            return List.of(new Credential(registry, SOURCE, configFile.toString(), null, null, null,
                    e.getMessage() + STARTUP));
        }
        List<Credential> broken = validate(providers, registry);
        if (!broken.isEmpty()) {
            return broken;
        }
        List<Credential> out = new ArrayList<>();
        for (Provider p : providers) {
            if (p.matchImages().stream().anyMatch(m -> matches(m, image))) {
                out.addAll(cachedOrRun(p, image, registry));
            }
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------------------
    // The configuration file

    private record Provider(String name, List<String> matchImages, Duration defaultCacheDuration, String apiVersion,
                            List<String> args, Map<String, String> env, boolean tokenAttributes) {
    }

    /** config.go readCredentialProviderConfig: a file, or a directory of *.json/*.yaml/*.yml merged in order. */
    private static List<Provider> readConfig(Path path) {
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(path)) {
            try (DirectoryStream<Path> dir = Files.newDirectoryStream(path)) {
                for (Path f : dir) {
                    String n = f.getFileName().toString();
                    if (!Files.isDirectory(f) && (n.endsWith(".json") || n.endsWith(".yaml") || n.endsWith(".yml"))) {
                        files.add(f);
                    }
                    if (files.size() > MAX_CONFIG_FILES) {
                        throw new ProviderConfigException("more than " + MAX_CONFIG_FILES + " configuration files in "
                                + path + "; not read");
                    }
                }
            } catch (IOException | SecurityException e) {
                throw new ProviderConfigException("cannot list the configuration directory " + path);
            }
            files.sort(Comparator.comparing(Path::toString));
            if (files.isEmpty()) {
                throw new ProviderConfigException("no configuration files (*.json, *.yaml, *.yml) in directory " + path);
            }
        } else {
            files.add(path);
        }
        List<Provider> merged = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Path f : files) {
            for (Provider p : decode(f)) {
                if (!names.add(p.name())) {
                    throw new ProviderConfigException("duplicate provider name \"" + p.name() + "\" in the configuration");
                }
                merged.add(p);
            }
        }
        return merged;
    }

    private static List<Provider> decode(Path file) {
        byte[] data;
        try {
            if (Files.size(file) > MAX_CONFIG) {
                throw new ProviderConfigException(file + " is larger than 1 MiB; not read");
            }
            data = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ProviderConfigException(file + " disappeared while being read");
        } catch (IOException | SecurityException e) {
            throw new ProviderConfigException("cannot read " + file);
        }
        String where = "in " + file + ": ";
        JsonNode root;
        try {
            // Like the kubelet's universal decoder: JSON if it starts with '{', else YAML (of which JSON is a subset,
            // but a YAML parser is laxer about JSON than a JSON parser).
            root = startsWithBrace(data) ? JSON.readTree(data) : YAML.readTree(data);
        } catch (IOException e) {
            String message = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            if (message != null && message.startsWith("Duplicate field")) {
                int end = message.indexOf('\'', message.indexOf('\'') + 1);
                message = end > 0 ? message.substring(0, end + 1) : "Duplicate field";
            }
            throw new ProviderConfigException(where + "not valid " + (startsWithBrace(data) ? "JSON" : "YAML") + " ("
                    + firstLine(message) + ")");
        }
        if (root == null || root.isMissingNode() || !root.isObject()) {
            throw new ProviderConfigException(where + "not a " + CONFIG_KIND + " object");
        }
        String kind = text(root, "kind", where);
        String apiVersion = text(root, "apiVersion", where);
        if (kind.isEmpty()) {
            throw new ProviderConfigException(where + "'kind' is missing (expected " + CONFIG_KIND + ")");
        }
        if (apiVersion.isEmpty()) {
            throw new ProviderConfigException(where + "'apiVersion' is missing (expected " + CONFIG_GROUP + "/v1)");
        }
        if (!apiVersion.startsWith(CONFIG_GROUP + "/")) {
            throw new ProviderConfigException(where + "apiVersion " + quote(apiVersion) + " is not in group " + CONFIG_GROUP);
        }
        if (!CONFIG_VERSIONS.contains(apiVersion)) {
            throw new ProviderConfigException(where + "apiVersion " + quote(apiVersion) + " is not one the kubelet knows "
                    + "(" + CONFIG_GROUP + "/v1, v1beta1, v1alpha1)");
        }
        if (!CONFIG_KIND.equals(kind)) {
            throw new ProviderConfigException(where + "kind " + quote(kind) + " is not " + CONFIG_KIND);
        }
        strictFields(root, CONFIG_FIELDS, where);
        JsonNode list = root.get("providers");
        List<Provider> providers = new ArrayList<>();
        if (list == null || list.isNull()) {
            return providers;
        }
        if (!list.isArray()) {
            throw new ProviderConfigException(where + "'providers' must be a list");
        }
        int i = 0;
        for (JsonNode node : list) {
            String at = where + "providers[" + i++ + "]";
            if (!node.isObject()) {
                throw new ProviderConfigException(at + " must be an object");
            }
            strictFields(node, PROVIDER_FIELDS, at + ": ");
            JsonNode duration = node.get("defaultCacheDuration");
            Duration cache = null;
            if (duration != null && !duration.isNull()) {
                if (!duration.isTextual()) {
                    throw new ProviderConfigException(at + ".defaultCacheDuration must be a duration string such as \"12h\"");
                }
                cache = parseGoDuration(duration.asText());
                if (cache == null) {
                    throw new ProviderConfigException(at + ".defaultCacheDuration " + quote(duration.asText())
                            + " is not a duration (such as \"12h\")");
                }
            }
            Map<String, String> env = new LinkedHashMap<>();
            JsonNode envList = node.get("env");
            if (envList != null && !envList.isNull()) {
                if (!envList.isArray()) {
                    throw new ProviderConfigException(at + ".env must be a list of {name, value}");
                }
                int j = 0;
                for (JsonNode e : envList) {
                    String eat = at + ".env[" + j++ + "]";
                    if (!e.isObject()) {
                        throw new ProviderConfigException(eat + " must be an object with name and value");
                    }
                    strictFields(e, Set.of("name", "value"), eat + ": ");
                    env.put(text(e, "name", eat + "."), text(e, "value", eat + "."));
                }
            }
            JsonNode token = node.get("tokenAttributes");
            if (token != null && !token.isNull() && !token.isObject()) {
                throw new ProviderConfigException(at + ".tokenAttributes must be an object");
            }
            providers.add(new Provider(text(node, "name", at + "."), strings(node, "matchImages", at + "."), cache,
                    text(node, "apiVersion", at + "."), strings(node, "args", at + "."), env,
                    token != null && token.isObject()));
        }
        return providers;
    }

    /** config.go validateCredentialProviderConfig; every finding is reported, as the kubelet aggregates them. */
    private List<Credential> validate(List<Provider> providers, String registry) {
        List<Credential> out = new ArrayList<>();
        String cfg = configFile.toString();
        if (providers.isEmpty()) {
            out.add(new Credential(registry, SOURCE, cfg, null, null, null,
                    "the configuration lists no providers (at least one is required)" + STARTUP));
            return out;
        }
        for (Provider p : providers) {
            List<String> errors = new ArrayList<>();
            String n = p.name();
            if (n.contains("/")) {
                errors.add("provider name cannot contain '/'");
            }
            if (n.contains(" ")) {
                errors.add("provider name cannot contain spaces");
            }
            if (n.equals(".") || n.equals("..")) {
                errors.add("provider name cannot be '" + n + "'");
            }
            if (p.apiVersion().isEmpty()) {
                errors.add("apiVersion is required");
            } else if (!PLUGIN_VERSIONS.contains(p.apiVersion())) {
                errors.add("apiVersion " + quote(p.apiVersion()) + " is not supported (credentialprovider.kubelet"
                        + ".k8s.io/v1, v1beta1 or v1alpha1)");
            }
            if (p.matchImages().isEmpty()) {
                errors.add("matchImages needs at least one entry");
            }
            for (String m : p.matchImages()) {
                if (Url.parse("https://" + m) == null) {
                    errors.add("matchImages entry " + quote(m) + " is not a valid image pattern");
                }
            }
            if (p.defaultCacheDuration() == null) {
                errors.add("defaultCacheDuration is required");
            } else if (p.defaultCacheDuration().isNegative()) {
                errors.add("defaultCacheDuration must not be negative");
            }
            if (!errors.isEmpty()) {
                // The name may be a path (that is the error): the config file is where to look, not a binary.
                out.add(new Credential(registry, SOURCE + "/" + Redaction.snippet(n, 120), cfg, null, null, null,
                        "provider " + quote(Redaction.snippet(n, 120)) + ": " + String.join("; ", errors) + STARTUP));
            }
        }
        if (!out.isEmpty()) {
            return out;
        }
        if (binDir == null || !Files.isDirectory(binDir)) {
            out.add(new Credential(registry, SOURCE, String.valueOf(binDir), null, null, null,
                    "the provider bin directory " + binDir + " does not exist" + STARTUP));
            return out;
        }
        // plugin.go registers every provider (exec.LookPath on bin-dir/name), not just those matching the image.
        for (Provider p : providers) {
            Path bin;
            try {
                bin = binDir.resolve(p.name());
            } catch (InvalidPathException e) {
                out.add(new Credential(registry, SOURCE + "/" + Redaction.snippet(p.name(), 120), binDir.toString(),
                        null, null, null, "provider name " + quote(Redaction.snippet(p.name(), 120))
                        + " is not a file name" + STARTUP));
                continue;
            }
            if (!Files.isRegularFile(bin) || !Files.isExecutable(bin)) {
                out.add(new Credential(registry, SOURCE + "/" + p.name(), bin.toString(), null, null, null,
                        bin + (Files.exists(bin) ? " is not an executable file" : " does not exist") + STARTUP));
            }
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Running one provider

    private List<Credential> cachedOrRun(Provider p, String image, String registry) {
        String provider = p.toString();
        long now = System.nanoTime();
        for (String keyType : List.of("Image", "Registry", "Global")) {
            Cached hit = cache.get(cacheKey(provider, keyType, image, registry));
            if (hit != null && hit.expiresAtNanos() - now > 0) {
                return hit.credentials();
            }
        }
        CacheHint hint = new CacheHint();
        List<Credential> fresh = run(p, image, registry, hint);
        Duration keep = hint.duration != null ? hint.duration : p.defaultCacheDuration();
        if (hint.keyType != null && keep != null && !keep.isZero() && !keep.isNegative()) {
            cache.values().removeIf(c -> c.expiresAtNanos() - now <= 0);
            if (cache.size() < MAX_CACHED) {
                cache.put(cacheKey(provider, hint.keyType, image, registry), new Cached(now + keep.toNanos(), fresh));
            }
        }
        return fresh;
    }

    private List<Credential> run(Provider p, String image, String registry, CacheHint hint) {
        Path bin = binDir.resolve(p.name());
        String source = SOURCE + "/" + p.name();
        String where = bin.toString();
        if (p.tokenAttributes()) {
            return List.of(new Credential(registry, source, where, null, null, null, p.name() + " is configured "
                    + "with tokenAttributes: the kubelet hands it a service account token of the pod being started, "
                    + "which a node-level check cannot mint; not run"));
        }
        List<String> command = new ArrayList<>();
        command.add(bin.toString());
        command.addAll(p.args());
        ProcessBuilder pb = new ProcessBuilder(command);
        try {
            // The node's environment with the configured variables on top (plugin.go mergeEnvVars: later wins).
            pb.environment().putAll(p.env());
        } catch (IllegalArgumentException e) {
            return List.of(new Credential(registry, source, where, null, null, null, p.name()
                    + " has an env entry that cannot be passed to a process (a name with '=' or a NUL)"));
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        Process proc;
        try {
            proc = pb.start();
        } catch (IOException | SecurityException e) {
            return List.of(new Credential(registry, source, where, null, null, null, p.name()
                    + " could not be started: " + Redaction.snippet(e.getMessage(), 200)));
        }
        Drain out = new Drain(proc.getInputStream());
        Drain err = new Drain(proc.getErrorStream());
        Thread outReader = daemon(out, "provider-stdout-" + p.name());
        Thread errReader = daemon(err, "provider-stderr-" + p.name());
        // Children seen while it runs: once the provider is gone they are orphans no process tree leads to.
        Set<ProcessHandle> children = new LinkedHashSet<>();
        boolean killAll = true;
        try {
            try (OutputStream stdin = proc.getOutputStream()) {
                // Far smaller than a pipe buffer, so this never blocks on a provider that does not read it.
                stdin.write(request(p.apiVersion(), image));
            } catch (IOException ignored) {
                // a provider that exits without reading its stdin still answers (or fails) below
            }
            boolean exited = false;
            while (!exited) {
                proc.descendants().forEach(children::add);
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                exited = proc.waitFor(Math.min(left, POLL.toNanos()), TimeUnit.NANOSECONDS);
            }
            if (!exited) {
                killTree(proc, children);
                errReader.join(200);
                return problem(registry, source, where, p.name() + " did not answer within " + timeout.toMillis()
                        + "ms (the kubelet waits up to 1m); killed it and its child processes" + stderr(err));
            }
            // A child left running in the background can hold the pipes open: wait only until the deadline.
            outReader.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            errReader.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (outReader.isAlive() || errReader.isAlive()) {
                return problem(registry, source, where, p.name() + " exited, but something it started kept its "
                        + "output open past " + timeout.toMillis() + "ms (the kubelet would wait for it); killed "
                        + "what could be found" + stderr(err));
            }
            killAll = false; // a clean exit: what it deliberately left running is its business, as for the kubelet
            int status = proc.exitValue();
            if (status != 0) {
                return problem(registry, source, where, p.name() + " exited " + status + stderr(err));
            }
            return answer(p, out, err, image, registry, source, where, hint);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return problem(registry, source, where, "interrupted");
        } finally {
            killTree(proc, killAll ? children : Set.of());
        }
    }

    /** plugin.go ExecPlugin/decodeResponse and keyring.go Add/Lookup, applied to what the provider printed. */
    private static List<Credential> answer(Provider p, Drain out, Drain err, String image, String registry,
                                           String source, String where, CacheHint hint) {
        String name = p.name();
        if (out.overflowed()) {
            return problem(registry, source, where, name + " printed more than 64 KiB" + stderr(err));
        }
        byte[] stdout = out.bytes();
        // Never quote stdout or the parser's message about it: it may hold the very secret being fetched.
        JsonNode root;
        try {
            root = JSON.readTree(stdout);
        } catch (JsonProcessingException e) {
            String why = e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("Duplicate field")
                    ? "repeats a field" : "is not JSON";
            return problem(registry, source, where, name + " printed an answer that " + why
                    + "; the kubelet cannot decode it" + stderr(err));
        } catch (IOException e) {
            return problem(registry, source, where, name + " printed an answer that cannot be read" + stderr(err));
        }
        if (root == null || root.isMissingNode()) {
            return problem(registry, source, where, name + " printed nothing" + stderr(err));
        }
        if (!root.isObject()) {
            return problem(registry, source, where, name + " printed JSON that is not a " + RESPONSE_KIND
                    + stderr(err));
        }
        JsonNode apiVersion = root.get("apiVersion");
        String version = apiVersion != null && apiVersion.isTextual() ? apiVersion.asText() : "";
        if (!version.equals(p.apiVersion())) {
            return problem(registry, source, where, name + " answered with apiVersion " + quote(short80(version))
                    + " but was asked in " + p.apiVersion() + "; the kubelet rejects the answer");
        }
        JsonNode kind = root.get("kind");
        String k = kind != null && kind.isTextual() ? kind.asText() : "";
        if (!RESPONSE_KIND.equals(k)) {
            return problem(registry, source, where, name + " answered kind " + quote(short80(k)) + ", not "
                    + RESPONSE_KIND + "; the kubelet rejects the answer");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!RESPONSE_FIELDS.contains(f)) {
                return problem(registry, source, where, name + " answered with an unknown field "
                        + quote(short80(f)) + "; the kubelet decodes strictly and rejects the answer");
            }
        }
        JsonNode cacheKeyType = root.get("cacheKeyType");
        String cacheKey = cacheKeyType != null && cacheKeyType.isTextual() ? cacheKeyType.asText() : "";
        if (cacheKeyType != null && !cacheKeyType.isNull() && !cacheKeyType.isTextual()) {
            return problem(registry, source, where, name + " answered a cacheKeyType that is not a string; "
                    + "the kubelet cannot decode the answer");
        }
        JsonNode cacheDuration = root.get("cacheDuration");
        if (cacheDuration != null && !cacheDuration.isNull()
                && (!cacheDuration.isTextual() || parseGoDuration(cacheDuration.asText()) == null)) {
            return problem(registry, source, where, name + " answered a cacheDuration that is not a duration; "
                    + "the kubelet cannot decode the answer");
        }
        JsonNode auth = root.get("auth");
        if (auth != null && !auth.isNull() && !auth.isObject()) {
            return problem(registry, source, where, name + " answered an 'auth' that is not an object; "
                    + "the kubelet cannot decode the answer");
        }
        // Entries keyed by the keyring's form of the key (scheme, /v1/ or /v2/ dropped), each with its raw key.
        List<Entry> entries = new ArrayList<>();
        if (auth != null && auth.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = auth.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode v = e.getValue();
                if (!v.isNull() && !v.isObject()) {
                    return problem(registry, source, where, name + " answered an auth entry that is not an object;"
                            + " the kubelet cannot decode the answer");
                }
                String user = "";
                String pass = "";
                if (v.isObject()) {
                    for (Iterator<Map.Entry<String, JsonNode>> f = v.fields(); f.hasNext(); ) {
                        Map.Entry<String, JsonNode> field = f.next();
                        JsonNode value = field.getValue();
                        boolean known = field.getKey().equals("username") || field.getKey().equals("password");
                        if (!known || !(value.isTextual() || value.isNull())) {
                            return problem(registry, source, where, name + " answered an auth entry with "
                                    + (known ? "a non-string " : "an unknown field ") + quote(short80(field.getKey()))
                                    + "; the kubelet decodes strictly and rejects the answer");
                        }
                        if (value.isTextual()) {
                            if (field.getKey().equals("username")) {
                                user = value.asText();
                            } else {
                                pass = value.asText();
                            }
                        }
                    }
                }
                entries.add(new Entry(e.getKey(), keyringKey(e.getKey()), user, pass));
            }
        }
        if (!CACHE_KEY_TYPES.contains(cacheKey)) {
            return problem(registry, source, where, name + " answered cacheKeyType " + quote(short80(cacheKey))
                    + " (not Image, Registry or Global); the kubelet ignores the answer");
        }
        if (entries.isEmpty()) {
            return problem(registry, source, where, name + " answered with no credentials (empty 'auth'); the "
                    + "kubelet pulls without them" + stderr(err));
        }
        List<Entry> matching = new ArrayList<>();
        for (Entry e : entries) {
            if (e.key() != null && matches(e.key(), image)) {
                matching.add(e);
            }
        }
        if (matching.isEmpty() && isDefaultRegistryMatch(image)) {
            // keyring.go Lookup: credentials for index.docker.io serve Docker Hub images when nothing else matched.
            entries.stream().filter(e -> "index.docker.io".equals(e.key())).forEach(matching::add);
        }
        if (matching.isEmpty()) {
            List<String> keys = entries.stream().map(Entry::raw).sorted().toList();
            return problem(registry, source, where, name + " answered credentials only for "
                    + Redaction.snippet(String.join(", ", keys), 200) + ", none of which covers " + image
                    + "; the kubelet pulls without them");
        }
        // The keyring walks its keys in reverse lexical order: longer and non-wildcard keys before their prefixes.
        matching.sort(Comparator.comparing(Entry::key).reversed());
        List<Credential> creds = new ArrayList<>();
        for (Entry e : matching) {
            String user = e.username().isEmpty() ? null : e.username();
            creds.add(new Credential(e.raw(), source, where, user, e.password(), EcrToken.expiry(user, e.password()),
                    null));
        }
        hint.keyType = cacheKey;
        hint.duration = cacheDuration == null || cacheDuration.isNull() ? null
                : parseGoDuration(cacheDuration.asText());
        return List.copyOf(creds);
    }

    private record Entry(String raw, String key, String username, String password) {
    }

    /**
     * The request as the kubelet's JSON encoder writes it for the provider's apiVersion: TypeMeta first (kind, then
     * apiVersion), the image, a trailing newline; no service account fields since none is sent.
     */
    static byte[] request(String apiVersion, String image) {
        ObjectNode req = JSON.createObjectNode();
        req.put("kind", "CredentialProviderRequest");
        req.put("apiVersion", apiVersion);
        req.put("image", image);
        try {
            return (JSON.writeValueAsString(req) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** keyring.go Add: the key the keyring indexes a DockerConfig entry under, or null when it does not parse. */
    static String keyringKey(String loc) {
        String value = loc.startsWith("https://") || loc.startsWith("http://") ? loc : "https://" + loc;
        Url u = Url.parse(value);
        if (u == null) {
            return null;
        }
        String path = u.path();
        if (path.startsWith("/v2/") || path.startsWith("/v1/")) {
            path = path.substring(3);
        }
        return !path.isEmpty() && !path.equals("/") ? u.host() + path : u.host();
    }

    /**
     * Kill the provider and everything it started: its current children are listed before it dies (they are
     * re-parented after), and those seen earlier are added; handles check start times, so a reused pid is safe.
     */
    private static void killTree(Process proc, Set<ProcessHandle> seen) {
        for (int round = 0; round < 3; round++) {
            List<ProcessHandle> children = new ArrayList<>(proc.descendants().toList());
            proc.destroyForcibly();
            children.forEach(ProcessHandle::destroyForcibly);
            if (children.stream().noneMatch(ProcessHandle::isAlive)) {
                break;
            }
        }
        seen.forEach(ProcessHandle::destroyForcibly);
        try {
            proc.waitFor(200, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true); // a reader stuck on a pipe held by an escaped grandchild must not keep the JVM alive
        t.start();
        return t;
    }

    /**
     * Reads a stream to its end keeping the first 64 KiB: draining the rest means a chatty provider never blocks on
     * a full pipe (the kubelet buffers all of it), and nothing unbounded is held or written to disk.
     */
    private static final class Drain implements Runnable {
        private final InputStream in;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private boolean overflowed;

        Drain(InputStream in) {
            this.in = in;
        }

        @Override
        public void run() {
            byte[] buf = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    synchronized (this) {
                        int room = MAX_OUTPUT - kept.size();
                        kept.write(buf, 0, Math.min(room, n));
                        if (n > room) {
                            overflowed = true;
                        }
                    }
                }
            } catch (IOException ignored) {
                // the process was killed or closed the pipe: what was read is what there is
            }
        }

        synchronized byte[] bytes() {
            return kept.toByteArray();
        }

        synchronized boolean overflowed() {
            return overflowed;
        }
    }

    private static String stderr(Drain err) {
        String text = new String(err.bytes(), StandardCharsets.UTF_8);
        String s = Redaction.snippet(text, MAX_STDERR_SHOWN);
        return s == null || s.isEmpty() ? "" : ": " + s;
    }

    private static List<Credential> problem(String registry, String source, String where, String problem) {
        return List.of(new Credential(registry, source, where, null, null, null, problem));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Images and matching

    /**
     * What the kubelet hands the keyring and the provider (parsers.ParseImageName → reference.Named.Name()): the
     * repository, Docker-normalised, without tag or digest. A bare registry host stays as it is.
     */
    static String repository(String image) {
        String s = image;
        if (s.indexOf('/') < 0 && s.indexOf('@') < 0 && looksLikeHost(s)) {
            return s;
        }
        int at = s.indexOf('@');
        if (at >= 0) {
            s = s.substring(0, at);
        }
        int colon = s.lastIndexOf(':');
        if (colon > s.lastIndexOf('/')) {
            s = s.substring(0, colon);
        }
        // distribution/reference splitDockerDomain: a first component without '.' or ':', not localhost and in
        // lower case, is a Docker Hub namespace, not a registry.
        int slash = s.indexOf('/');
        String domain;
        String rest;
        if (slash < 0 || !isDomain(s.substring(0, slash))) {
            domain = "docker.io";
            rest = s;
        } else {
            domain = s.substring(0, slash);
            rest = s.substring(slash + 1);
        }
        if (domain.equals("index.docker.io")) {
            domain = "docker.io";
        }
        if (domain.equals("docker.io") && rest.indexOf('/') < 0) {
            rest = "library/" + rest;
        }
        return domain + "/" + rest;
    }

    private static boolean isDomain(String first) {
        return first.indexOf('.') >= 0 || first.indexOf(':') >= 0 || first.equals("localhost")
                || !first.equals(first.toLowerCase(java.util.Locale.ROOT));
    }

    /** "public.ecr.aws", "localhost:5000", "[::1]:5000": a host (with a numeric port), not "busybox:1.36". */
    private static boolean looksLikeHost(String s) {
        String host = s;
        if (s.startsWith("[")) {
            return true;
        }
        int colon = s.lastIndexOf(':');
        if (colon >= 0) {
            String port = s.substring(colon + 1);
            if (port.isEmpty() || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return false;
            }
            host = s.substring(0, colon);
        }
        return host.indexOf('.') >= 0 || host.equals("localhost");
    }

    private static String registryOf(String image) {
        int slash = image.indexOf('/');
        return slash < 0 ? image : image.substring(0, slash);
    }

    /** keyring.go isDefaultRegistryMatch. */
    private static boolean isDefaultRegistryMatch(String image) {
        int slash = image.indexOf('/');
        String first = slash < 0 ? image : image.substring(0, slash);
        if (first.isEmpty()) {
            return false;
        }
        if (slash < 0 || first.equals("docker.io") || first.equals("index.docker.io")) {
            return true;
        }
        return first.indexOf('.') < 0 && first.indexOf(':') < 0;
    }

    /**
     * The kubelet's matchImages (and auth key) semantics, keyring.go URLsMatchStr: both sides parse as URLs after
     * "https://"; the ports must be equal (none matches only none); the hosts must have the same number of
     * dot-separated parts, each matching its glob part (Go's filepath.Match: {@code *} and {@code ?} within one part,
     * {@code [...]} classes; case-sensitive); and the pattern's path must be a string prefix of the image's path.
     * Anything that does not parse, or a malformed glob, does not match.
     */
    public static boolean matches(String pattern, String image) {
        if (pattern == null || image == null) {
            return false;
        }
        Url glob = Url.parse("https://" + pattern);
        Url target = Url.parse("https://" + image);
        if (glob == null || target == null) {
            return false;
        }
        String[] g = splitHostPort(glob.host());
        String[] t = splitHostPort(target.host());
        if (!g[1].equals(t[1])) {
            return false;
        }
        String[] gParts = g[0].split("\\.", -1);
        String[] tParts = t[0].split("\\.", -1);
        if (gParts.length != tParts.length || !target.path().startsWith(glob.path())) {
            return false;
        }
        for (int i = 0; i < gParts.length; i++) {
            if (!globMatch(gParts[i], tParts[i])) {
                return false;
            }
        }
        return true;
    }

    /** net.SplitHostPort, falling back (as keyring.go SplitURL does) to the whole host and no port on error. */
    private static String[] splitHostPort(String hostport) {
        String[] split = dev.pullpath.gocompat.GoStrings.splitHostPort(hostport);
        return split == null ? new String[] {hostport, ""} : split;
    }

    static boolean globMatch(String pattern, String name) {
        return FilepathMatch.match(pattern, name);
    }

    /**
     * The parts of Go's {@code url.Parse} the matching depends on: host (userinfo dropped, percent-escapes decoded)
     * and path (decoded, query and fragment dropped); null where Go returns an error. This is {@link GoUrl} in its
     * {@link GoUrl.Brackets#LENIENT} mode, plus one check kept from this class's own parser before the two were
     * merged: a control character anywhere, the fragment included, is refused (Go checks only before the '#').
     */
    private record Url(String host, String path) {
        static Url parse(String raw) {
            if (raw.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                return null;
            }
            GoUrl u = GoUrl.parseOrNull(raw, GoUrl.Brackets.LENIENT);
            return u == null ? null : new Url(u.host(), u.path());
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Small helpers

    static Duration parseGoDuration(String text) {
        return GoDuration.parse(text);
    }


    /** Go's encoding/json into a string field: absent or null is "", anything but a string is an error. */
    private static String text(JsonNode node, String field, String where) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return "";
        }
        if (!v.isTextual()) {
            throw new ProviderConfigException(where + field + " must be a string");
        }
        return v.asText();
    }

    private static List<String> strings(JsonNode node, String field, String where) {
        JsonNode v = node.get(field);
        List<String> out = new ArrayList<>();
        if (v == null || v.isNull()) {
            return out;
        }
        if (!v.isArray()) {
            throw new ProviderConfigException(where + field + " must be a list of strings");
        }
        for (JsonNode e : v) {
            if (e.isNull()) {
                out.add("");
            } else if (e.isTextual()) {
                out.add(e.asText());
            } else {
                throw new ProviderConfigException(where + field + " must be a list of strings");
            }
        }
        return out;
    }

    private static void strictFields(JsonNode node, Set<String> allowed, String where) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw new ProviderConfigException(where + "unknown field " + quote(short80(f))
                        + " (the kubelet decodes strictly)");
            }
        }
    }

    private static boolean startsWithBrace(byte[] data) {
        for (byte b : data) {
            if (b == '{') {
                return true;
            }
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return false;
            }
        }
        return false;
    }

    private static String quote(String s) {
        return "\"" + s + "\"";
    }

    private static String short80(String s) {
        return Redaction.snippet(s, 80);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return Redaction.snippet(nl < 0 ? s : s.substring(0, nl), 160);
    }
}
