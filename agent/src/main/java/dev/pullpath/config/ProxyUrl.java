package dev.pullpath.config;

import dev.pullpath.config.ProxySettings.Proxy;
import dev.pullpath.gocompat.GoStrings;
import dev.pullpath.gocompat.GoUrl;

/**
 * How Go's transport reads a proxy value: httpproxy.parseProxy and then the transport's canonicalAddr, on top of
 * {@link GoUrl} (with {@link GoUrl.Brackets#IPV6_ONLY}, the current Go's rule).
 */
final class ProxyUrl {
    private ProxyUrl() {
    }

    /**
     * @param proxy the proxy Go uses, or null on error
     * @param reread Go re-read the value as "http://" + value although it was written with "://"
     * @param error a fixed phrase saying why Go rejects the value (never the value), or null
     */
    record Interpretation(Proxy proxy, boolean reread, String error) {
    }

    /**
     * Go keeps the value if it parses with both a scheme and a host. Otherwise it tries "http://" + value. If that
     * fails too, the first parse's error counts. If the first parse had no error, Go keeps that first URL, even when
     * it has no host.
     */
    static Interpretation interpret(String value) {
        GoUrl first = null;
        GoUrl.BadUrl firstError = null;
        try {
            first = GoUrl.parse(value, GoUrl.Brackets.IPV6_ONLY);
        } catch (GoUrl.BadUrl e) {
            firstError = e;
        }
        if (firstError != null || first.scheme().isEmpty() || first.host().isEmpty()) {
            try {
                GoUrl second = GoUrl.parse("http://" + value, GoUrl.Brackets.IPV6_ONLY);
                return new Interpretation(toProxy(second), value.contains("://"), null);
            } catch (GoUrl.BadUrl ignored) {
                // Go falls back to the first attempt's outcome.
            }
        }
        if (firstError != null) {
            return new Interpretation(null, false, firstError.getMessage());
        }
        return new Interpretation(toProxy(first), false, null);
    }

    private static Proxy toProxy(GoUrl url) {
        // url.Hostname() and url.Port(): the port is the digits after the last colon, and the brackets go.
        String host = url.host();
        String port = "";
        int colon = host.lastIndexOf(':');
        if (colon >= 0 && GoUrl.validOptionalPort(host.substring(colon))) {
            port = host.substring(colon + 1);
            host = host.substring(0, colon);
        }
        if (host.length() >= 2 && host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int number;
        if (port.isEmpty()) {
            number = switch (url.scheme()) {
                case "http" -> 80;
                case "https" -> 443;
                case "socks5", "socks5h" -> 1080;
                default -> 0;
            };
        } else {
            long n = 0;
            for (int i = 0; i < port.length() && n <= Integer.MAX_VALUE; i++) {
                n = n * 10 + (port.charAt(i) - '0');
            }
            number = (int) Math.min(n, Integer.MAX_VALUE);
        }
        return new Proxy(url.scheme(), GoStrings.idnaAscii(host), number, url.user(), url.password());
    }
}
