package dev.pullpath.credentials;

import static dev.pullpath.credentials.ImageReference.*;
import static dev.pullpath.credentials.PluginProcess.*;
import static dev.pullpath.credentials.ProviderConfig.*;
import static dev.pullpath.credentials.ProviderResponse.*;

import dev.pullpath.diagnosis.Redaction;
import dev.pullpath.gocompat.FilepathMatch;
import dev.pullpath.gocompat.GoDuration;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
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
 * Usable answers are kept as the kubelet keeps them ({@link ProviderCache}). Deliberate differences: the wait is the caller's timeout capped at the kubelet's one minute, and on timeout the provider's child
 * processes are killed too, not just the provider; providers that need a pod's service account token
 * ({@code tokenAttributes}) are not run, since there is no pod to mint one for. Blocking: call it off any event loop.
 */
public final class KubeletCredentialProvider {
    static final String SOURCE = "kubelet-credential-provider";

    /** The kubelet's catch-all exec timeout (plugin.go: {@code context.WithTimeout(ctx, 1*time.Minute)}). */
    private static final Duration KUBELET_EXEC_TIMEOUT = Duration.ofMinutes(1);
    private static final int MAX_IMAGE = 4096;
    private static final Duration POLL = Duration.ofMillis(50);
    private static final String STARTUP = "; the kubelet exits at startup with this configuration";

    private static final Set<String> PLUGIN_VERSIONS = Set.of("credentialprovider.kubelet.k8s.io/v1",
            "credentialprovider.kubelet.k8s.io/v1beta1", "credentialprovider.kubelet.k8s.io/v1alpha1");

    private final Path configFile;
    private final Path binDir;
    private final Duration timeout;
    /** See {@link ProviderCache}: the kubelet does not call a provider again while its answer is kept. */
    private final ProviderCache cache = new ProviderCache();

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
        List<Credential> kept = cache.get(provider, image, registry, now);
        if (kept != null) {
            return kept;
        }
        CacheHint hint = new CacheHint();
        List<Credential> fresh = run(p, image, registry, hint);
        Duration keep = hint.duration != null ? hint.duration : p.defaultCacheDuration();
        cache.put(provider, hint.keyType, image, registry, keep, now, fresh);
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

    static byte[] request(String apiVersion, String image) {
        return ProviderResponse.request(apiVersion, image);
    }

    static String keyringKey(String loc) {
        return ImageReference.keyringKey(loc);
    }

    /** The kubelet's matchImages semantics: see {@link ImageReference#matches}. */
    public static boolean matches(String pattern, String image) {
        return ImageReference.matches(pattern, image);
    }

    static String repository(String image) {
        return ImageReference.repository(image);
    }

    static boolean globMatch(String pattern, String name) {
        return FilepathMatch.match(pattern, name);
    }

    static Duration parseGoDuration(String text) {
        return GoDuration.parse(text);
    }
}
