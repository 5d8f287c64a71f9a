package dev.pullpath.config;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The proxy that containerd and kubelet use for an https request to a registry. They get it from Go's
 * {@code net/http.ProxyFromEnvironment}, which is {@code golang.org/x/net/http/httpproxy}
 * ({@code FromEnvironment().ProxyFunc()}). This class follows that package's rules for https only, quirks
 * included, because a diagnosis that "corrects" containerd's behaviour would send the probe down a path
 * containerd never takes.
 *
 * <p>{@link #fromEnvironment} never throws. A value that Go ignores or misreads shows up in {@link #problems()}
 * and is handled the way Go handles it. {@link #of} is for pullpath's own flags and config. It throws
 * {@link ConfigException} where Go would reject the value. No message, {@code toString()} or problem ever
 * contains a proxy password.
 *
 * @param httpsProxy the proxy Go would use for https requests, or null when there is none
 * @param proxySource where {@code httpsProxy} came from (a variable name or a flag), or null with no proxy
 * @param noProxy the parsed NO_PROXY list
 * @param problems what Go does with this configuration that an operator would not expect, in plain words
 */
public record ProxySettings(Proxy httpsProxy, String proxySource, NoProxy noProxy, List<String> problems) {

    /**
     * At most this many NO_PROXY entries are used. Go has no limit. A bound keeps hostile config from making every
     * lookup slow, and no real list comes close to it. A "*" later in the list still counts, because it changes
     * the meaning of the whole list.
     */
    public static final int MAX_NO_PROXY_ENTRIES = 1000;

    public ProxySettings {
        Objects.requireNonNull(noProxy, "noProxy");
        problems = List.copyOf(problems);
    }

    /**
     * A proxy as Go's transport dials it.
     *
     * @param scheme lower case, as written or "http" when none was written. Go keeps any scheme. It speaks SOCKS5
     *     to socks5 and socks5h, adds TLS to the proxy only for https, and sends a plain HTTP CONNECT for every other
     *     scheme, even an unknown one or "".
     * @param host the host to dial, without brackets, in IDNA ASCII form. An empty host means the local host, as
     *     Go's dialer treats it.
     * @param port the written port, or the scheme's default (http 80, https 443, socks5/socks5h 1080). An unknown
     *     scheme with no port gives 0, and Go then dials port 0. Above 65535 only from {@link #fromEnvironment}, where
     *     Go keeps such a proxy and every connection through it fails. Such a port is capped at
     *     {@link Integer#MAX_VALUE}.
     * @param username decoded user info, or null when the URL has none. Go then sends no Proxy-Authorization.
     * @param password decoded password, or null when the user info has no ':'
     */
    public record Proxy(String scheme, String host, int port, String username, String password) {
        public Proxy {
            Objects.requireNonNull(scheme, "scheme");
            Objects.requireNonNull(host, "host");
            if (username == null && password != null) {
                throw new IllegalArgumentException("a proxy password needs a username");
            }
        }

        public boolean isSocks() {
            return scheme.equals("socks5") || scheme.equals("socks5h");
        }

        /** Whether Go wraps the connection to the proxy itself in TLS, before it sends CONNECT. */
        public boolean tlsToProxy() {
            return scheme.equals("https");
        }

        /**
         * The Proxy-Authorization value Go sends with CONNECT. Go sends it whenever the URL has user info, even
         * with no password ({@code user:}).
         */
        public Optional<String> proxyAuthorization() {
            if (username == null) {
                return Optional.empty();
            }
            String pair = username + ":" + (password == null ? "" : password);
            return Optional.of("Basic " + Base64.getEncoder().encodeToString(pair.getBytes(UTF_8)));
        }

        /** {@code http://user:<redacted>@host:port}. This is safe to log. The username is percent-encoded as Go writes it. */
        public String redacted() {
            StringBuilder b = new StringBuilder();
            if (!scheme.isEmpty()) {
                b.append(scheme).append(':');
            }
            b.append("//");
            if (username != null) {
                // The user name too: some proxies take a token as the user name.
                b.append("<redacted>@");
            }
            String shownHost = printable(host, 300);
            b.append(host.indexOf(':') >= 0 ? "[" + shownHost + "]" : shownHost);
            return b.append(':').append(port).toString();
        }

        /** Never the password: records print every component by default. */
        @Override
        public String toString() {
            return redacted();
        }
    }

    public static ProxySettings none() {
        return new ProxySettings(null, null, NoProxy.parse(null, ""), List.of());
    }

    public static ProxySettings fromEnvironment() {
        return fromEnvironment(System::getenv);
    }

    /**
     * Go's {@code FromEnvironment}. HTTPS_PROXY is used if it is non-empty, otherwise https_proxy. NO_PROXY is used
     * if it is non-empty, otherwise no_proxy. Values are not trimmed. HTTP_PROXY does not apply to https. The CGI
     * rule (REQUEST_METHOD) only affects HTTP_PROXY, so it is ignored too.
     */
    public static ProxySettings fromEnvironment(Function<String, String> env) {
        Objects.requireNonNull(env, "env");
        String[] proxy = firstNonEmpty(env, "HTTPS_PROXY", "https_proxy");
        String[] noProxy = firstNonEmpty(env, "NO_PROXY", "no_proxy");
        return build(proxy[0], proxy[1], noProxy[0], noProxy[1], false);
    }

    /** For {@code --proxy}/{@code --no-proxy} and the config file. A null or blank proxy means none. */
    public static ProxySettings of(String httpsProxy, String noProxy) {
        return of("--proxy", httpsProxy, "--no-proxy", noProxy);
    }

    /**
     * Like {@link #of(String, String)}, with names for messages. This throws {@link ConfigException} where Go would
     * reject the proxy (it is not a URL, or its port is above 65535). The message names {@code proxySource} and
     * never contains the value.
     */
    public static ProxySettings of(String proxySource, String httpsProxy, String noProxySource, String noProxy) {
        String proxy = httpsProxy == null || httpsProxy.isBlank() ? "" : httpsProxy;
        return build(proxySource, proxy, noProxySource, noProxy == null ? "" : noProxy, true);
    }

    private static String[] firstNonEmpty(Function<String, String> env, String upper, String lower) {
        for (String name : new String[] {upper, lower}) {
            String value = env.apply(name);
            if (value != null && !value.isEmpty()) {
                return new String[] {name, value};
            }
        }
        return new String[] {null, ""};
    }

    private static ProxySettings build(String proxySource, String proxyValue, String noProxySource,
            String noProxyValue, boolean strict) {
        List<String> problems = new ArrayList<>();
        Proxy proxy = null;
        if (!proxyValue.isEmpty()) {
            ProxyUrl.Interpretation it = ProxyUrl.interpret(proxyValue);
            if (it.error() != null) {
                if (strict) {
                    throw new ConfigException(proxySource + " is not a valid proxy URL: " + it.error());
                }
                problems.add(proxySource + " is not a valid proxy URL (" + it.error()
                        + "); Go ignores it, so containerd and kubelet connect to registries directly");
            } else {
                proxy = it.proxy();
                if (proxy.port() > 65535) {
                    if (strict) {
                        throw new ConfigException(proxySource + " has a port above 65535");
                    }
                    problems.add(proxySource + " has a port above 65535; Go still selects the proxy "
                            + proxy.redacted() + " and every https pull through it fails with 'invalid port'");
                }
                if (it.reread()) {
                    problems.add(proxySource + " is not a well-formed URL; Go re-reads it as \"http://\" followed by"
                            + " the value, which gives the proxy " + proxy.redacted());
                }
                if (proxy.host().isEmpty()) {
                    problems.add(proxySource + " names no proxy host; Go dials the local host (" + proxy.redacted()
                            + ")");
                }
                if (!List.of("http", "https", "socks5", "socks5h").contains(proxy.scheme())) {
                    problems.add(proxySource + " has the scheme '" + printable(proxy.scheme(), 40)
                            + "', which Go treats as a plain HTTP proxy"
                            + (proxy.port() == 0 ? ", and with no port it dials port 0" : ""));
                }
            }
        }
        NoProxy noProxy = NoProxy.parse(noProxySource, noProxyValue);
        problems.addAll(noProxy.notes());
        return new ProxySettings(proxy, proxy == null ? null : proxySource, noProxy, problems);
    }

    /** The proxy for {@code https://host:443}. */
    public Optional<Proxy> proxyFor(String host) {
        return proxyFor(host, 443);
    }

    /**
     * Go's {@code ProxyFunc} for an https URL. {@code host} is a name or an IP literal. IPv6 may come with or
     * without brackets, and with a zone. A port of 0 or less means none was written, so 443 applies. This never
     * throws.
     */
    public Optional<Proxy> proxyFor(String host, int port) {
        if (httpsProxy == null || noProxy.bypassReason(host, port).isPresent()) {
            return Optional.empty();
        }
        return Optional.of(httpsProxy);
    }

    /** Why {@code host:port} is fetched directly despite a proxy, or empty when NO_PROXY and the built-in rules allow the proxy. */
    public Optional<String> bypassReason(String host, int port) {
        return noProxy.bypassReason(host, port);
    }

    public String describe() {
        StringBuilder b = new StringBuilder();
        if (httpsProxy == null) {
            b.append("no https proxy");
        } else {
            b.append("https proxy ").append(httpsProxy.redacted()).append(" (from ").append(proxySource).append(')');
        }
        if (!noProxy.raw().isEmpty()) {
            b.append("; ").append(noProxy);
        }
        return b.toString();
    }

    /** Safe to log: the password never appears. */
    @Override
    public String toString() {
        return problems.isEmpty() ? describe() : describe() + "; problems: " + String.join("; ", problems);
    }

    /** Escapes control characters and shortens long text, so hostile config cannot forge log lines or flood them. */
    static String printable(String s, int max) {
        StringBuilder b = new StringBuilder();
        int i = 0;
        for (; i < s.length() && b.length() < max; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u2028' || c == '\u2029') {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return i < s.length() ? b + "…" : b.toString();
    }

}
