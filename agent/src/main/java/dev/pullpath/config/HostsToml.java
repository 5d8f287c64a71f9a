package dev.pullpath.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.pullpath.config.ContainerdHosts.Endpoint;
import dev.pullpath.diagnosis.Redaction;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One hosts.toml decoded as containerd's {@code remotes/docker/config/hosts.go} decodes it, with its two kinds of
 * error kept apart, because containerd treats them differently:
 * <ul>
 *   <li>what its decoder rejects ({@code parseHostsFile}: TOML syntax, a value of the wrong type, an unknown
 *   capability, before 1.7.32 a file without any {@code [host]} table) makes containerd log "failed to decode
 *   hosts.toml" and pull from the registry's default host, with only the directory's Docker-style {@code *.crt}
 *   files: {@link Undecodable};</li>
 *   <li>what it accepts but cannot use (a CA file that cannot be read, no host that serves pulls) fails every
 *   pull of the registry: {@link ConfigException}.</li>
 * </ul>
 * Keys containerd does not know are ignored, as go-toml ignores them.
 */
final class HostsToml {
    private static final TomlMapper TOML = new TomlMapper();
    private static final Set<String> CAPABILITIES = Set.of("pull", "resolve", "push");
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    /** containerd's decoder refuses the file; containerd then uses its default host. */
    static final class Undecodable extends Exception {
        Undecodable(String message) {
            super(message, null, false, false);
        }
    }

    private HostsToml() {
    }

    /**
     * The hosts of {@code text} (the file at {@code file}) in containerd's order: the {@code [host]} tables as they
     * appear, then the root host (the {@code server}, or the registry itself).
     */
    static List<Endpoint> decode(Path file, String text, String authority, ContainerdVersion version)
            throws Undecodable {
        JsonNode root;
        try {
            root = TOML.readTree(text);
        } catch (IOException e) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new Undecodable("failed to parse TOML: " + Redaction.snippet(message.lines().findFirst().orElse(""),
                    160));
        }
        if (root == null || !root.isObject()) {
            root = TOML.createObjectNode();
        }
        JsonNode hosts = root.get("host");
        if (hosts == null && version.needsHostTable()) {
            // go-toml v1's tree.Get("host") is nil: getSortedHosts returns "invalid `host` tree".
            throw new Undecodable("it has no [host.\"URL\"] table, required before 1.7.32: \"invalid `host` tree\"");
        }
        if (hosts != null && !hosts.isObject()) {
            throw new Undecodable("'host' must be a table of [host.\"URL\"] tables");
        }
        Path base = file.getParent();
        List<Endpoint> endpoints = new ArrayList<>();
        if (hosts != null) {
            for (Iterator<Map.Entry<String, JsonNode>> it = hosts.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isObject()) {
                    throw new Undecodable("host '" + safeUrl(e.getKey()) + "' must be a table");
                }
                Endpoint ep = endpoint(e.getKey(), true, e.getValue(), base);
                if (servesPulls(e.getValue()) && endpoints.size() < ContainerdHosts.MAX_HOSTS - 1) {
                    endpoints.add(ep);
                }
            }
        }
        JsonNode server = root.get("server");
        if (server != null && !server.isTextual()) {
            throw new Undecodable("'server' must be a string");
        }
        boolean rootServesPulls = servesPulls(root);
        Endpoint rootHost = endpoint(server == null ? ContainerdHosts.defaultServerUrl(authority) : server.asText(),
                false, root, base);
        // Without a server, ConfigureHosts makes the root host the registry itself, with every capability.
        if (server == null || rootServesPulls) {
            endpoints.add(rootHost);
        }
        if (endpoints.isEmpty()) {
            throw new ConfigException("no host has the pull or resolve capability: every pull fails");
        }
        return endpoints;
    }

    /**
     * A host is asked for pulls when its capabilities (all, if unset or empty) include pull or resolve. containerd
     * reads them case-insensitively and refuses the file for an unknown one.
     */
    private static boolean servesPulls(JsonNode table) throws Undecodable {
        JsonNode caps = table.get("capabilities");
        if (caps == null) {
            return true;
        }
        if (!caps.isArray()) {
            throw new Undecodable("'capabilities' must be a list of strings");
        }
        boolean pulls = caps.isEmpty();
        for (JsonNode c : caps) {
            if (!c.isTextual()) {
                throw new Undecodable("'capabilities' must be a list of strings");
            }
            String cap = c.asText().toLowerCase(Locale.ROOT);
            if (!CAPABILITIES.contains(cap)) {
                throw new Undecodable("unknown capability '" + Redaction.snippet(c.asText(), 40)
                        + "' (pull, resolve, push)");
            }
            pulls |= cap.equals("pull") || cap.equals("resolve");
        }
        return pulls;
    }

    static Endpoint endpoint(String text, boolean mirror, JsonNode table, Path base) throws Undecodable {
        URI uri;
        try {
            // parseHostConfig: a server not starting with "http" gets "https://" in front.
            uri = new URI(text.startsWith("http") ? text : "https://" + text);
        } catch (URISyntaxException e) {
            throw new Undecodable("unable to parse server '" + safeUrl(text) + "': " + e.getReason());
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
                throw new Undecodable("'header' must be a table");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = h.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                headers.put(e.getKey(), headerValue(e.getKey(), e.getValue()));
            }
        }
        JsonNode client = table.get("client");
        if (client != null && !client.isTextual() && !client.isArray()) {
            throw new Undecodable("invalid type for 'client'");
        }
        String shown = (plain ? "http://" : "https://") + new Target(host, host, port).authority()
                + (path.isEmpty() ? "" : path);
        return new Endpoint(shown, mirror, plain, host, port, apiRoot, paths(table.get("ca"), base),
                bool(table, "skip_verify"), headers, client != null);
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

    /**
     * A header's value: a string or a list of strings (anything else is a decode error). Go's client refuses a
     * request with an invalid field name or a line break in a value, so every request to the host would fail.
     */
    private static String headerValue(String name, JsonNode v) throws Undecodable {
        String value;
        if (v.isTextual()) {
            value = v.asText();
        } else if (v.isArray()) {
            List<String> values = new ArrayList<>();
            for (JsonNode x : v) {
                if (!x.isTextual()) {
                    throw new Undecodable("header '" + Redaction.snippet(name, 40)
                            + "' must be a string or a list of strings");
                }
                values.add(x.asText());
            }
            value = String.join(", ", values);
        } else {
            throw new Undecodable("header '" + Redaction.snippet(name, 40) + "' must be a string or a list of strings");
        }
        if (!HEADER_NAME.matcher(name).matches()) {
            throw new ConfigException("header name '" + Redaction.snippet(name, 40)
                    + "' is not a valid HTTP field name");
        }
        if (value.chars().anyMatch(c -> c == '\r' || c == '\n' || c == 0)) {
            throw new ConfigException("header '" + name + "' has a line break or NUL in its value");
        }
        return value;
    }

    private static boolean bool(JsonNode table, String key) throws Undecodable {
        JsonNode v = table.get(key);
        if (v == null) {
            return false;
        }
        if (!v.isBoolean()) {
            throw new Undecodable("'" + key + "' must be true or false");
        }
        return v.asBoolean();
    }

    /** {@code ca}: a path or a list of paths, relative ones to the host directory. */
    private static List<Path> paths(JsonNode v, Path base) throws Undecodable {
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
            if (!item.isTextual()) {
                throw new Undecodable("invalid type for 'ca': a path or a list of paths");
            }
            if (item.asText().isBlank()) {
                throw new ConfigException("'ca' is empty: containerd cannot read a CA from the host directory");
            }
            Path p;
            try {
                p = Path.of(item.asText());
            } catch (java.nio.file.InvalidPathException e) {
                throw new ConfigException("'ca' path '" + Redaction.snippet(item.asText(), 80)
                        + "' is not a valid path");
            }
            out.add(p.isAbsolute() || base == null ? p : base.resolve(p));
        }
        return out;
    }

    static ObjectNode emptyTable() {
        return TOML.createObjectNode();
    }

    /** A URL as it may be shown: without user info. */
    static String safeUrl(String text) {
        return Redaction.snippet(text.replaceAll("//[^/@]*@", "//"), 120);
    }
}
