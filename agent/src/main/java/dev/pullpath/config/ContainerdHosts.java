package dev.pullpath.config;

import dev.pullpath.files.BoundedFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The hosts a containerd pull of one registry goes to, read from its registry config directory
 * ({@code config_path}, usually {@code /etc/containerd/certs.d}) the way containerd reads it:
 * {@code <dir>/<host[:port]>/hosts.toml}, else {@code <dir>/_default/hosts.toml}; the {@code [host."URL"]} tables in
 * file order, then the {@code server}. A host directory without hosts.toml but with Docker-style {@code *.crt}
 * files adds those as CAs of the server. A pull tries the hosts in order and uses the first that answers, so a
 * mirror that fails costs time and a fallback. A file containerd's decoder rejects is ignored (containerd logs
 * "failed to decode hosts.toml" and pulls from the default host, see {@link HostsToml}); a file it accepts but cannot
 * use fails every pull of the registry.
 *
 * @param file      the file (or directory) read
 * @param endpoints the hosts that serve pulls, mirrors first, the server last
 * @param problem   why containerd fails every pull with this configuration, else null (then {@code endpoints} is
 *                  empty)
 * @param ignored   why containerd ignores the file and uses its default host instead (the only endpoint then), else
 *                  null
 */
public record ContainerdHosts(Path file, List<Endpoint> endpoints, String problem, String ignored) {

    public static final Path DEFAULT_DIR = Path.of("/etc/containerd/certs.d");
    private static final long MAX_FILE = 256 * 1024;
    /** Hosts of one pull path walked at most (mirrors and the server). */
    public static final int MAX_HOSTS = 16;

    /**
     * One host of the pull path.
     *
     * @param url        the host as configured, without credentials
     * @param mirror     true for a {@code [host]} entry, false for the {@code server}
     * @param plainHttp  {@code http://}: no TLS on this hop
     * @param host       host name or IP literal
     * @param port       TCP port
     * @param apiRoot    the distribution API's root path ({@code /v2} unless the URL has a path)
     * @param caFiles    extra trust anchors for this host (added to the node's, as containerd does)
     * @param skipVerify certificate and name not verified
     * @param headers    sent with every request to this host; values may be secrets and are never shown
     * @param clientCertificate a client certificate is configured (pullpath does not present it)
     */
    public record Endpoint(String url, boolean mirror, boolean plainHttp, String host, int port, String apiRoot,
                           List<Path> caFiles, boolean skipVerify, Map<String, String> headers,
                           boolean clientCertificate) {

        public Endpoint {
            caFiles = List.copyOf(caFiles);
            headers = Map.copyOf(headers);
        }

        /** Header names only: their values may be credentials. */
        @Override
        public String toString() {
            return describe();
        }

        /** The hop as a probe target, reported under the configured target's name. */
        public Target target(String name) {
            return new Target(name, host, port);
        }

        /** What a report shows: role, URL, and the settings that change how the hop is judged (no values). */
        public String describe() {
            StringBuilder b = new StringBuilder(mirror ? "mirror " : "server ").append(url);
            if (!caFiles.isEmpty()) {
                b.append(", ca ").append(caFiles);
            }
            if (skipVerify) {
                b.append(", skip_verify");
            }
            if (!headers.isEmpty()) {
                b.append(", headers ").append(headers.keySet().stream().sorted().toList());
            }
            if (clientCertificate) {
                b.append(", client certificate (not presented by pullpath)");
            }
            return b.toString();
        }
    }

    /**
     * The configuration for {@code authority} ({@code host} or {@code host:port}, as in an image reference) under
     * {@code dir}, or empty when containerd would use its defaults (no directory for it, no {@code _default}), as
     * {@code version} reads it. Blocking (files): call it off any event loop.
     */
    public static Optional<ContainerdHosts> find(Path dir, String authority, ContainerdVersion version) {
        if (dir == null || !Files.isDirectory(dir)) {
            return Optional.empty();
        }
        Path hostDir = hostDirectory(dir, authority);
        if (hostDir == null) {
            return Optional.empty();
        }
        Path file = hostDir.resolve("hosts.toml");
        try {
            String text;
            try {
                text = Files.exists(file) ? BoundedFile.readString(file, MAX_FILE, StandardCharsets.UTF_8) : "";
            } catch (BoundedFile.TooLarge e) {
                return Optional.of(parse(file, null, authority, version));
            } catch (NoSuchFileException e) {
                text = "";
            }
            // loadHostDir: an absent or empty hosts.toml means the Docker-style certificate files.
            if (text.isEmpty()) {
                List<Path> certs = dockerStyleCerts(hostDir);
                return certs.isEmpty() ? Optional.empty() : Optional.of(new ContainerdHosts(hostDir,
                        List.of(defaultServer(authority, hostDir)), null, null));
            }
            return Optional.of(parse(file, text, authority, version));
        } catch (IOException | SecurityException e) {
            return Optional.of(invalid(file, "cannot be read (" + e.getClass().getSimpleName() + ")"));
        }
    }

    /** Parses {@code text}, the contents of {@code file} (null when it is too large to read). */
    static ContainerdHosts parse(Path file, String text, String authority, ContainerdVersion version) {
        if (text == null) {
            return invalid(file, "is larger than 256 KiB");
        }
        try {
            return new ContainerdHosts(file, HostsToml.decode(file, text, authority, version), null, null);
        } catch (HostsToml.Undecodable e) {
            Endpoint fallback;
            try {
                fallback = defaultServer(authority, file.getParent());
            } catch (ConfigException unusable) {
                return invalid(file, unusable.getMessage());
            }
            return new ContainerdHosts(file, List.of(fallback), null, version.describe() + " cannot decode " + file
                    + " (" + e.getMessage() + ") and ignores it: pulls go to " + fallback.describe()
                    + ", without the file's hosts, ca, skip_verify or headers");
        } catch (ConfigException e) {
            return invalid(file, e.getMessage());
        }
    }

    private static ContainerdHosts invalid(Path file, String problem) {
        return new ContainerdHosts(file, List.of(), file + " " + (problem.startsWith("is ") || problem.startsWith(
                "cannot") ? problem : ": " + problem), null);
    }

    static String defaultServerUrl(String authority) {
        return "docker.io".equals(authority) ? "https://registry-1.docker.io" : "https://" + authority;
    }

    /** The registry itself, trusting the Docker-style {@code *.crt} files of {@code hostDir} (loadCertFiles). */
    private static Endpoint defaultServer(String authority, Path hostDir) {
        Endpoint e;
        try {
            e = HostsToml.endpoint(defaultServerUrl(authority), false, HostsToml.emptyTable(), null);
        } catch (HostsToml.Undecodable bad) {
            throw new ConfigException("registry '" + authority + "': " + bad.getMessage());
        }
        boolean clientCertificate = hostDir != null && !files(hostDir, "*.cert").isEmpty();
        return new Endpoint(e.url(), false, false, e.host(), e.port(), e.apiRoot(),
                hostDir == null ? List.of() : dockerStyleCerts(hostDir), false, Map.of(), clientCertificate);
    }

    private static List<Path> dockerStyleCerts(Path hostDir) {
        return files(hostDir, "*.crt");
    }

    private static List<Path> files(Path hostDir, String glob) {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(hostDir, glob)) {
            files.forEach(found::add);
        } catch (IOException | SecurityException e) {
            return List.of();
        }
        found.sort(null);
        return found;
    }

    /**
     * The first that exists of {@code <host>_<port>_}, {@code <host:port>} and {@code _default}, as containerd's
     * hostPaths orders them; null when none does.
     */
    private static Path hostDirectory(Path dir, String authority) {
        List<String> names = new ArrayList<>();
        int colon = authority.lastIndexOf(':');
        if (colon > 0) {
            names.add(authority.substring(0, colon) + "_" + authority.substring(colon + 1) + "_");
        }
        names.add(authority);
        names.add("_default");
        for (String name : names) {
            if (isSafeName(name) && Files.isDirectory(dir.resolve(name))) {
                return dir.resolve(name);
            }
        }
        return null;
    }

    /** A directory name containerd could have made from a registry host: no path separators or dot-dot. */
    private static boolean isSafeName(String authority) {
        return !authority.isEmpty() && !authority.contains("/") && !authority.contains("\\")
                && !authority.equals(".") && !authority.equals("..");
    }
}
