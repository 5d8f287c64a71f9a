package dev.pullpath.credentials;

import dev.pullpath.files.BoundedFile;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Finds the stored logins a pull of a registry would send, read-only, the way the clients find them: Helm's
 * registry config ({@code $HELM_REGISTRY_CONFIG}, else {@code ~/.config/helm/registry/config.json}, or the macOS
 * path), and Docker's ({@code $DOCKER_CONFIG/config.json}, else {@code ~/.docker/config.json}) with its
 * {@code auths}, {@code credHelpers} and {@code credsStore}; a helper is asked with the standard protocol
 * ({@code docker-credential-NAME get}, the server on stdin, JSON on stdout) under a timeout. A malformed file or a
 * failing helper becomes evidence on the credential, never an exception. Blocking (files, helper processes): call
 * it off any event loop.
 */
public final class CredentialStores {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_FILE = 1024 * 1024;
    private static final int MAX_HELPER_OUTPUT = 64 * 1024;

    private final Path helmConfig;
    private final Path dockerConfig;
    private final Duration helperTimeout;
    private final Function<String, String> env;

    /**
     * @param helmConfig   Helm's registry config file, or null for the default search
     * @param dockerConfig Docker's config file or directory, or null for the default search
     */
    public CredentialStores(Path helmConfig, Path dockerConfig, Duration helperTimeout, Function<String, String> env) {
        this(helmConfig, dockerConfig, helperTimeout, env, false);
    }

    /** No stores at all: anonymous pulls only (the daemon until node credential sources are configured). */
    public static CredentialStores none() {
        return new CredentialStores(null, null, Duration.ofSeconds(1), k -> null, true);
    }

    private final boolean disabled;
    private KubeletCredentialProvider provider;
    /** Logins found elsewhere for one probe (a pod's imagePullSecrets), asked before the stores. */
    private List<Credential> extra = List.of();

    /**
     * These stores plus {@code logins} found elsewhere for one probe (a pod's imagePullSecrets), which come first, as
     * the kubelet puts the pod's secrets before the node's own logins.
     */
    public CredentialStores plus(List<Credential> logins) {
        CredentialStores copy = new CredentialStores(helmConfig, dockerConfig, helperTimeout, env, disabled);
        copy.provider = provider;
        copy.extra = List.copyOf(logins);
        return copy;
    }

    /** Also asks the kubelet's image credential provider, as the kubelet does for every pull on the node. */
    public CredentialStores withKubeletProvider(KubeletCredentialProvider kubelet) {
        this.provider = kubelet;
        return this;
    }

    private CredentialStores(Path helmConfig, Path dockerConfig, Duration helperTimeout, Function<String, String> env,
                             boolean disabled) {
        this.helmConfig = helmConfig;
        this.dockerConfig = dockerConfig;
        this.helperTimeout = helperTimeout;
        this.env = env;
        this.disabled = disabled;
    }

    /** Every credential the stores hold for {@code host}, usable or not (a broken one is evidence too). */
    public List<Credential> find(String host) {
        List<Credential> out = new ArrayList<>(extra.stream().filter(c -> c.registry().equals(host)).toList());
        if (disabled) {
            return out;
        }
        Path helm = helmConfig != null ? helmConfig : firstExisting(helmDefaults());
        if (helm != null) {
            out.addAll(read("helm", helm, host));
        }
        Path docker = dockerConfig != null ? dockerFile(dockerConfig) : firstExisting(dockerDefaults());
        if (docker != null) {
            out.addAll(read("docker", docker, host));
        }
        if (provider != null) {
            out.addAll(provider.find(host));
        }
        return out;
    }

    private List<Path> helmDefaults() {
        List<Path> paths = new ArrayList<>();
        String configured = env.apply("HELM_REGISTRY_CONFIG");
        if (configured != null && !configured.isBlank()) {
            return List.of(Path.of(configured));
        }
        String home = env.apply("HOME");
        String xdg = env.apply("XDG_CONFIG_HOME");
        if (xdg != null && !xdg.isBlank()) {
            paths.add(Path.of(xdg, "helm", "registry", "config.json"));
        }
        if (home != null) {
            paths.add(Path.of(home, ".config", "helm", "registry", "config.json"));
            paths.add(Path.of(home, "Library", "Preferences", "helm", "registry", "config.json"));
        }
        return paths;
    }

    private List<Path> dockerDefaults() {
        String configured = env.apply("DOCKER_CONFIG");
        if (configured != null && !configured.isBlank()) {
            return List.of(Path.of(configured, "config.json"));
        }
        String home = env.apply("HOME");
        return home == null ? List.of() : List.of(Path.of(home, ".docker", "config.json"));
    }

    private static Path dockerFile(Path p) {
        return Files.isDirectory(p) ? p.resolve("config.json") : p;
    }

    private static Path firstExisting(List<Path> paths) {
        return paths.stream().filter(Files::exists).findFirst().orElse(null);
    }

    private List<Credential> read(String source, Path file, String host) {
        byte[] json;
        try {
            json = BoundedFile.read(file, MAX_FILE);
        } catch (BoundedFile.TooLarge e) {
            return List.of(broken(source, file, host, "larger than 1 MiB; not read"));
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            return List.of(broken(source, file, host, "not valid JSON (" + firstLine(e.getMessage()) + ")"));
        } catch (SecurityException e) {
            return List.of(broken(source, file, host, "not readable"));
        }
        Parsed parsed = parse(source, file.toString(), host, json);
        if (parsed.broken() != null) {
            return List.of(parsed.broken());
        }
        String helper = helperFor(parsed.root(), host);
        if (helper != null) {
            return List.of(fromHelper(source, file, host, helper));
        }
        JsonNode auths = parsed.root().get("auths");
        return auths == null ? List.of()
                : entries(source, file.toString(), host, auths, key -> hostOf(key).equals(host));
    }

    /** A Docker config document's root object, or the one broken credential that says why it is none. */
    private record Parsed(JsonNode root, Credential broken) {
    }

    private static Parsed parse(String source, String location, String host, byte[] json) {
        if (json.length > MAX_FILE) {
            return new Parsed(null, broken(source, location, host, "larger than 1 MiB; not read"));
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            return new Parsed(null, broken(source, location, host, "not valid JSON (" + firstLine(e.getMessage())
                    + ")"));
        }
        if (root == null || !root.isObject()) {
            return new Parsed(null, broken(source, location, host, "not a JSON object"));
        }
        return new Parsed(root, null);
    }

    /** The logins of an {@code auths} map whose key {@code matches}, each as a credential for {@code host}. */
    private static List<Credential> entries(String source, String location, String host, JsonNode auths,
                                            java.util.function.Predicate<String> matches) {
        if (!auths.isObject()) {
            return List.of(broken(source, location, host, "'auths' is not an object"));
        }
        List<Credential> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = auths.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (matches.test(e.getKey())) {
                out.add(fromAuthEntry(source, location, host, e.getValue()));
            }
        }
        return out;
    }

    /** credHelpers for this host first, then credsStore, as Docker resolves them. */
    private static String helperFor(JsonNode root, String host) {
        JsonNode helpers = root.get("credHelpers");
        if (helpers != null && helpers.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = helpers.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (hostOf(e.getKey()).equals(host) && e.getValue().isTextual()) {
                    return e.getValue().asText();
                }
            }
        }
        JsonNode store = root.get("credsStore");
        return store != null && store.isTextual() && !store.asText().isBlank() ? store.asText() : null;
    }

    /**
     * The logins of a Docker config document held elsewhere than in a file (a pod's imagePullSecret): the
     * {@code auths} of {@code config.json} ({@code .dockerconfigjson}) or the older top-level map
     * ({@code .dockercfg}), each entry whose key matches {@code image}'s repository with the kubelet's keyring rules
     * (keyring.go Add and Lookup). They are for {@code host}, the authority the probe walks.
     */
    public static List<Credential> fromDocument(String source, String location, byte[] json, String image,
                                                String host) {
        Parsed parsed = parse(source, location, host, json);
        if (parsed.broken() != null) {
            return List.of(parsed.broken());
        }
        JsonNode auths = parsed.root().has("auths") ? parsed.root().get("auths") : parsed.root();
        String repository = ImageReference.repository(image);
        return entries(source, location, host, auths, key -> {
            String indexed = ImageReference.keyringKey(key);
            return indexed != null && ImageReference.matches(indexed, repository);
        });
    }

    private static Credential fromAuthEntry(String source, String location, String host, JsonNode entry) {
        if (!entry.isObject()) {
            return broken(source, location, host, "the entry for " + host + " is not an object");
        }
        JsonNode identity = entry.get("identitytoken");
        if (identity != null && identity.isTextual() && !identity.asText().isEmpty()) {
            return new Credential(host, source, location, null, identity.asText(), null, null);
        }
        JsonNode auth = entry.get("auth");
        if (auth == null || !auth.isTextual()) {
            JsonNode user = entry.get("username");
            JsonNode pass = entry.get("password");
            if (user != null && user.isTextual() && pass != null && pass.isTextual()) {
                return withExpiry(host, source, location, user.asText(), pass.asText());
            }
            return broken(source, location, host, "the entry for " + host + " has no 'auth' (a store or helper holds it?)");
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(auth.asText().strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return broken(source, location, host, "'auth' for " + host + " is not base64");
        }
        int colon = decoded.indexOf(':');
        if (colon <= 0) {
            return broken(source, location, host, "'auth' for " + host + " is not user:password");
        }
        return withExpiry(host, source, location, decoded.substring(0, colon), decoded.substring(colon + 1));
    }

    private static Credential withExpiry(String host, String source, String location, String user, String secret) {
        return new Credential(host, source, location, user, secret, EcrToken.expiry(user, secret), null);
    }

    /** The credential-helper protocol: {@code docker-credential-NAME get}, server on stdin, JSON on stdout. */
    private Credential fromHelper(String source, Path file, String host, String helper) {
        String name = "docker-credential-" + helper;
        String where = name + " (named in " + file + ")";
        if (!helper.matches("[A-Za-z0-9._-]{1,64}")) {
            return new Credential(host, source, file.toString(), null, null, null, "helper name '" + helper
                    + "' is not a program name");
        }
        Path out = null;
        Path err = null;
        Process p = null;
        try {
            out = Files.createTempFile("pullpath-helper", ".out");
            err = Files.createTempFile("pullpath-helper", ".err");
            try {
                p = new ProcessBuilder(name, "get").redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            } catch (IOException e) {
                return new Credential(host, source + "/" + name, where, null, null, null, name
                        + " is not installed (not on PATH): the pull fails the same way");
            }
            try (OutputStream in = p.getOutputStream()) {
                in.write(host.getBytes(StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // a helper that does not read stdin still answers, or fails below
            }
            if (!p.waitFor(helperTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                return new Credential(host, source + "/" + name, where, null, null, null, name
                        + " did not answer within " + helperTimeout.toMillis() + "ms");
            }
            byte[] stdout = readBounded(out);
            if (p.exitValue() != 0) {
                byte[] stderr = readBounded(err);
                String message = dev.pullpath.diagnosis.Redaction.snippet(new String(stdout.length > 0 ? stdout : stderr,
                        StandardCharsets.UTF_8), 160);
                return new Credential(host, source + "/" + name, where, null, null, null, name + " exited "
                        + p.exitValue() + (message.isEmpty() ? "" : ": " + message));
            }
            JsonNode answer = JSON.readTree(stdout);
            JsonNode user = answer == null ? null : answer.get("Username");
            JsonNode secret = answer == null ? null : answer.get("Secret");
            if (secret == null || !secret.isTextual()) {
                return new Credential(host, source + "/" + name, where, null, null, null, name
                        + " answered without a Secret");
            }
            String u = user != null && user.isTextual() ? user.asText() : null;
            return new Credential(host, source + "/" + name, where, "<token>".equals(u) ? null : u, secret.asText(),
                    EcrToken.expiry(u, secret.asText()), null);
        } catch (IOException e) {
            return new Credential(host, source + "/" + name, where, null, null, null, name
                    + " answered something that is not JSON");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Credential(host, source + "/" + name, where, null, null, null, "interrupted");
        } finally {
            if (p != null) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    private static byte[] readBounded(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(MAX_HELPER_OUTPUT);
        }
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // owner-only (createTempFile's default on POSIX); nothing more can be done here
            }
        }
    }

    private static Credential broken(String source, Path file, String host, String problem) {
        return broken(source, file.toString(), host, problem);
    }

    private static Credential broken(String source, String location, String host, String problem) {
        return new Credential(host, source, location, null, null, null, problem);
    }

    /** {@code https://public.ecr.aws/v2/} and {@code public.ecr.aws} name the same registry. */
    static String hostOf(String key) {
        String k = key.toLowerCase(Locale.ROOT).strip();
        int scheme = k.indexOf("://");
        if (scheme >= 0) {
            k = k.substring(scheme + 3);
        }
        int slash = k.indexOf('/');
        if (slash >= 0) {
            k = k.substring(0, slash);
        }
        if (k.endsWith(":443")) {
            k = k.substring(0, k.length() - 4);
        }
        return k;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl);
        return dev.pullpath.diagnosis.Redaction.snippet(line, 120);
    }
}
