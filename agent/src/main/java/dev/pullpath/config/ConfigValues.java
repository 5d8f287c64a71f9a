package dev.pullpath.config;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Function;

/**
 * The scalar values the file and the environment share (listen address, booleans, counts), and the environment
 * over the file: a variable that is set wins over the key, the key over the default.
 */
final class ConfigValues {
    private final Function<String, String> env;

    ConfigValues(Function<String, String> env) {
        this.env = env;
    }

    /** The environment variable if set, else the file's value, else the fallback. */
    <T> T envOr(String variable, Function<String, T> parse, T fromFile, T fallback) {
        String value = env.apply(variable);
        if (value != null && !value.isBlank()) {
            return parseEnv(variable, parse, value.trim());
        }
        return fromFile != null ? fromFile : fallback;
    }

    /** The raw environment variable, or null. */
    String env(String variable) {
        return env.apply(variable);
    }

    Function<String, String> environment() {
        return env;
    }

    static <T> T parseEnv(String variable, Function<String, T> parse, String value) {
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

    static int positiveInt(String text) {
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

    static boolean bool(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "true", "1", "yes" -> true;
            case "false", "0", "no" -> false;
            default -> throw new ConfigException("'" + text + "' is not true or false");
        };
    }

    /** The kernel's host name: no resolver involved (InetAddress.getLocalHost() may ask DNS). */
    static String localHostName() {
        try {
            String h = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            return h.isEmpty() ? "unknown" : h;
        } catch (IOException | SecurityException e) {
            String h = System.getenv("HOSTNAME");
            return h == null || h.isBlank() ? "unknown" : h;
        }
    }
}
