package dev.pullpath.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * A registry endpoint to probe: {@code host}, {@code host:port}, {@code [v6]:port} or {@code https://host[:port]}.
 *
 * @param name  how the user named it, used as the report's {@code target}
 * @param host  host name or IP literal, lower case, without brackets or trailing dot
 * @param port  TCP port, 443 unless given
 */
public record Target(String name, String host, int port) {

    public static final int HTTPS_PORT = 443;

    public static Target parse(String spec) {
        String s = spec == null ? "" : spec.trim();
        if (s.isEmpty()) {
            throw new ConfigException("empty target");
        }
        String authority = s;
        if (s.contains("://")) {
            URI uri;
            try {
                uri = new URI(s);
            } catch (URISyntaxException e) {
                throw new ConfigException("invalid target URL '" + spec + "': " + e.getReason());
            }
            if (!"https".equalsIgnoreCase(uri.getScheme())) {
                throw new ConfigException("invalid target '" + spec + "': only https:// registries are probed");
            }
            if (uri.getRawUserInfo() != null) {
                throw new ConfigException("invalid target '" + spec + "': credentials do not belong in a target");
            }
            authority = uri.getRawAuthority();
            if (authority == null) {
                throw new ConfigException("invalid target '" + spec + "': no host");
            }
        } else if (s.contains("/")) {
            throw new ConfigException("invalid target '" + spec + "': expected host, host:port or https://host[:port]");
        }
        String host;
        int port = HTTPS_PORT;
        if (authority.startsWith("[")) {
            int close = authority.indexOf(']');
            if (close < 0) {
                throw new ConfigException("invalid target '" + spec + "': unclosed '['");
            }
            host = authority.substring(1, close);
            String rest = authority.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw new ConfigException("invalid target '" + spec + "': junk after ']'");
                }
                port = parsePort(rest.substring(1), spec);
            }
            if (!host.contains(":")) {
                throw new ConfigException("invalid target '" + spec + "': brackets are for IPv6 addresses");
            }
        } else {
            int colon = authority.indexOf(':');
            if (colon >= 0 && authority.indexOf(':', colon + 1) >= 0) {
                host = authority; // a bare IPv6 literal
            } else if (colon >= 0) {
                host = authority.substring(0, colon);
                port = parsePort(authority.substring(colon + 1), spec);
            } else {
                host = authority;
            }
        }
        host = host.toLowerCase(Locale.ROOT);
        if (host.endsWith(".") && host.length() > 1) {
            host = host.substring(0, host.length() - 1);
        }
        if (host.isEmpty()) {
            throw new ConfigException("invalid target '" + spec + "': no host");
        }
        if (!host.contains(":") && !host.matches("[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?")) {
            throw new ConfigException("invalid target '" + spec + "': '" + host + "' is not a host name");
        }
        return new Target(s, host, port);
    }

    private static int parsePort(String text, String spec) {
        try {
            int port = Integer.parseInt(text);
            if (port < 1 || port > 65_535) {
                throw new NumberFormatException();
            }
            return port;
        } catch (NumberFormatException e) {
            throw new ConfigException("invalid target '" + spec + "': port must be 1-65535");
        }
    }

    /** {@code host:port} always, bracketing IPv6 literals: the request target of a CONNECT. */
    public String authorityWithPort() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** {@code host:port}, bracketing IPv6 literals, as it goes into an HTTP Host header. */
    public String authority() {
        String h = host.contains(":") ? "[" + host + "]" : host;
        return port == HTTPS_PORT ? h : h + ":" + port;
    }
}
