package dev.pullpath.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The hosts a containerd pull of one registry goes to, read from its registry config directory
 * ({@code config_path}, usually {@code /etc/containerd/certs.d}) the way containerd reads it:
 * {@code <dir>/<host[:port]>/hosts.toml}, else {@code <dir>/_default/hosts.toml}; the {@code [host."URL"]} tables in
 * file order, then the {@code server}. A host directory without hosts.toml but with Docker-style {@code *.crt}
 * files adds those as CAs of the server. A pull tries the hosts in order and uses the first that answers, so a
 * mirror that fails costs time and a fallback, and a file containerd cannot parse fails every pull of the registry.
 *
 * @param file      the file (or directory) read
 * @param endpoints the hosts that serve pulls, mirrors first, the server last
 * @param problem   why containerd would refuse this configuration, else null (then {@code endpoints} is empty)
 */
public record ContainerdHosts(Path file, List<Endpoint> endpoints, String problem) {

    public static final Path DEFAULT_DIR = Path.of("/etc/containerd/certs.d");
    private static final long MAX_FILE = 256 * 1024;
    /** Hosts of one pull path walked at most (mirrors and the server). */
    public static final int MAX_HOSTS = 16;
    private static final TomlMapper TOML = new TomlMapper();

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
     * {@code dir}, or empty when containerd would use its defaults (no directory for it, no {@code _default}).
     * Blocking (files): call it off any event loop.
     */
    public static Optional<ContainerdHosts> find(Path dir, String authority) {
        if (dir == null || !Files.isDirectory(dir)) {
            return Optional.empty();
        }
        Path hostDir = hostDirectory(dir, authority);
        if (hostDir == null) {
            return Optional.empty();
        }
        Path file = hostDir.resolve("hosts.toml");
        if (!Files.exists(file)) {
            List<Path> certs = dockerStyleCerts(hostDir);
            return certs.isEmpty() ? Optional.empty() : Optional.of(new ContainerdHosts(hostDir,
                    List.of(defaultServer(authority, certs)), null));
        }
        try {
            return Optional.of(parse(file, Files.size(file) > MAX_FILE ? null : Files.readString(file), authority));
        } catch (IOException | SecurityException e) {
            return Optional.of(invalid(file, "cannot be read (" + e.getClass().getSimpleName() + ")"));
        }
    }

    /** Parses {@code text}, the contents of {@code file} (null when it is too large to read). */
    static ContainerdHosts parse(Path file, String text, String authority) {
        if (text == null) {
            return invalid(file, "is larger than 256 KiB");
        }
        JsonNode root;
        try {
            root = TOML.readTree(text);
        } catch (IOException e) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return invalid(file, "is not valid TOML: " + dev.pullpath.diagnosis.Redaction.snippet(
                    message.lines().findFirst().orElse(""), 160));
        }
        if (root == null || !root.isObject()) {
            return invalid(file, "is empty");
        }
        Path base = file.getParent();
        try {
            List<Endpoint> endpoints = new ArrayList<>();
            JsonNode hosts = root.get("host");
            if (hosts != null) {
                if (!hosts.isObject()) {
                    throw new ConfigException("'host' must be a table of [host.\"URL\"] tables");
                }
                for (Iterator<Map.Entry<String, JsonNode>> it = hosts.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (!e.getValue().isObject()) {
                        throw new ConfigException("host '" + e.getKey() + "' must be a table");
                    }
                    Endpoint ep = endpoint(e.getKey(), true, e.getValue(), base);
                    if (servesPulls(e.getValue()) && endpoints.size() < MAX_HOSTS - 1) {
                        endpoints.add(ep);
                    }
                }
            }
            JsonNode server = root.get("server");
            String serverUrl;
            if (server == null) {
                serverUrl = defaultServerUrl(authority);
            } else if (server.isTextual()) {
                serverUrl = server.asText();
            } else {
                throw new ConfigException("'server' must be a string");
            }
            if (servesPulls(root)) {
                endpoints.add(endpoint(serverUrl, false, root, base));
            }
            if (endpoints.isEmpty()) {
                throw new ConfigException("no host has the pull or resolve capability: every pull fails");
            }
            return new ContainerdHosts(file, endpoints, null);
        } catch (ConfigException e) {
            return invalid(file, e.getMessage());
        }
    }

    private static ContainerdHosts invalid(Path file, String problem) {
        return new ContainerdHosts(file, List.of(), file + " " + (problem.startsWith("is ") || problem.startsWith(
                "cannot") ? problem : ": " + problem));
    }

    private static final java.util.Set<String> CAPABILITIES = java.util.Set.of("pull", "resolve", "push");

    /**
     * A host is asked for pulls when its capabilities (all, if unset) include pull or resolve. containerd reads them
     * case-insensitively and refuses the file for an unknown one.
     */
    private static boolean servesPulls(JsonNode table) {
        JsonNode caps = table.get("capabilities");
        if (caps == null) {
            return true;
        }
        if (!caps.isArray()) {
            throw new ConfigException("'capabilities' must be a list of strings");
        }
        boolean pulls = false;
        for (JsonNode c : caps) {
            if (!c.isTextual()) {
                throw new ConfigException("'capabilities' must be a list of strings");
            }
            String cap = c.asText().toLowerCase(Locale.ROOT);
            if (!CAPABILITIES.contains(cap)) {
                throw new ConfigException("unknown capability '" + dev.pullpath.diagnosis.Redaction.snippet(
                        c.asText(), 40) + "' (pull, resolve, push)");
            }
            pulls |= cap.equals("pull") || cap.equals("resolve");
        }
        return pulls;
    }

    private static Endpoint endpoint(String text, boolean mirror, JsonNode table, Path base) {
        URI uri;
        try {
            uri = new URI(text.contains("://") ? text : "https://" + text);
        } catch (URISyntaxException e) {
            throw new ConfigException("host '" + safeUrl(text) + "' is not a URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http")) {
            throw new ConfigException("host '" + safeUrl(text) + "': only http and https are supported");
        }
        String[] hostPort = hostAndPort(uri, text);
        boolean plain = scheme.equals("http");
        String host = hostPort[0].toLowerCase(Locale.ROOT);
        int port;
        try {
            port = hostPort[1] == null ? (plain ? 80 : Target.HTTPS_PORT) : Integer.parseInt(hostPort[1]);
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65_535) {
            throw new ConfigException("host '" + safeUrl(text) + "': port must be 1-65535");
        }
        boolean overridePath = bool(table, "override_path");
        String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceAll("/+$", "");
        String apiRoot = path.isEmpty() ? "/v2" : overridePath || path.endsWith("/v2") ? path : path + "/v2";
        Map<String, String> headers = new LinkedHashMap<>();
        JsonNode h = table.get("header");
        if (h != null) {
            if (!h.isObject()) {
                throw new ConfigException("'header' must be a table");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = h.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                headers.put(e.getKey(), headerValue(e.getKey(), e.getValue()));
            }
        }
        String shown = (plain ? "http://" : "https://") + new Target(host, host, port).authority()
                + (path.isEmpty() ? "" : path);
        return new Endpoint(shown, mirror, plain, host, port, apiRoot, paths(table.get("ca"), base),
                bool(table, "skip_verify"), headers, table.get("client") != null);
    }

    /**
     * Host and port of a host URL. Go's URL parser takes names java.net.URI does not (an underscore, as in
     * pull_cache.corp), so the raw authority decides when URI finds no host.
     */
    private static String[] hostAndPort(URI uri, String text) {
        if (uri.getHost() != null) {
            String h = uri.getHost();
            if (h.startsWith("[") && h.endsWith("]")) {
                h = h.substring(1, h.length() - 1);
            }
            return new String[] {h, uri.getPort() > 0 ? Integer.toString(uri.getPort()) : null};
        }
        String authority = uri.getRawAuthority();
        if (authority == null || authority.isEmpty()) {
            throw new ConfigException("host '" + safeUrl(text) + "' has no host name");
        }
        authority = authority.substring(authority.lastIndexOf('@') + 1);
        String h = authority;
        String p = null;
        if (authority.startsWith("[")) {
            int close = authority.indexOf(']');
            if (close < 0) {
                throw new ConfigException("host '" + safeUrl(text) + "': unclosed '['");
            }
            h = authority.substring(1, close);
            if (authority.length() > close + 1 && authority.charAt(close + 1) == ':') {
                p = authority.substring(close + 2);
            }
        } else if (authority.lastIndexOf(':') > 0) {
            h = authority.substring(0, authority.lastIndexOf(':'));
            p = authority.substring(authority.lastIndexOf(':') + 1);
        }
        if (h.isEmpty() || !h.matches("[A-Za-z0-9_.:-]+")) {
            throw new ConfigException("host '" + safeUrl(text) + "' has no usable host name");
        }
        return new String[] {h, p == null || p.isEmpty() ? null : p};
    }

    private static final java.util.regex.Pattern HEADER_NAME = java.util.regex.Pattern.compile(
            "[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    private static String headerValue(String name, JsonNode v) {
        if (!HEADER_NAME.matcher(name).matches()) {
            throw new ConfigException("header name '" + dev.pullpath.diagnosis.Redaction.snippet(name, 40)
                    + "' is not a valid HTTP field name");
        }
        String value = rawHeaderValue(name, v);
        if (value.chars().anyMatch(c -> c == '\r' || c == '\n' || c == 0)) {
            throw new ConfigException("header '" + name + "' has a line break or NUL in its value");
        }
        return value;
    }

    private static String rawHeaderValue(String name, JsonNode v) {
        if (v.isTextual()) {
            return v.asText();
        }
        if (v.isArray()) {
            List<String> values = new ArrayList<>();
            v.forEach(x -> {
                if (!x.isTextual()) {
                    throw new ConfigException("header '" + name + "' must be a string or a list of strings");
                }
                values.add(x.asText());
            });
            return String.join(", ", values);
        }
        throw new ConfigException("header '" + name + "' must be a string or a list of strings");
    }

    private static boolean bool(JsonNode table, String key) {
        JsonNode v = table.get(key);
        if (v == null) {
            return false;
        }
        if (!v.isBoolean()) {
            throw new ConfigException("'" + key + "' must be true or false");
        }
        return v.asBoolean();
    }

    /** {@code ca}: a path or a list of paths, relative ones to the host directory. */
    private static List<Path> paths(JsonNode v, Path base) {
        if (v == null) {
            return List.of();
        }
        List<JsonNode> items = new ArrayList<>();
        if (v.isArray()) {
            v.forEach(items::add);
        } else {
            items.add(v);
        }
        List<Path> out = new ArrayList<>();
        for (JsonNode item : items) {
            if (!item.isTextual() || item.asText().isBlank()) {
                throw new ConfigException("'ca' must be a path or a list of paths");
            }
            Path p;
            try {
                p = Path.of(item.asText());
            } catch (java.nio.file.InvalidPathException e) {
                throw new ConfigException("'ca' path '" + dev.pullpath.diagnosis.Redaction.snippet(item.asText(), 80)
                        + "' is not a valid path");
            }
            out.add(p.isAbsolute() || base == null ? p : base.resolve(p));
        }
        return out;
    }

    private static String defaultServerUrl(String authority) {
        return "docker.io".equals(authority) ? "https://registry-1.docker.io" : "https://" + authority;
    }

    private static Endpoint defaultServer(String authority, List<Path> certs) {
        Endpoint e = endpoint(defaultServerUrl(authority), false, TOML.createObjectNode(), null);
        return new Endpoint(e.url(), false, false, e.host(), e.port(), e.apiRoot(), certs, false, Map.of(), false);
    }

    private static List<Path> dockerStyleCerts(Path hostDir) {
        List<Path> certs = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(hostDir, "*.crt")) {
            files.forEach(certs::add);
        } catch (IOException | SecurityException e) {
            return List.of();
        }
        certs.sort(null);
        return certs;
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

    /** A URL as it may be shown: without user info. */
    private static String safeUrl(String text) {
        return dev.pullpath.diagnosis.Redaction.snippet(text.replaceAll("//[^/@]*@", "//"), 120);
    }
}
