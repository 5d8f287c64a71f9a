package dev.pullpath.config;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.net.IDN;
import java.util.ArrayList;
import java.util.Arrays;
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

    private static final int MAX_NOTES = 10;
    private static final int MAX_SHOWN = 120;

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
            GoUrl.Interpretation it = GoUrl.interpretProxy(proxyValue);
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

    /**
     * A parsed NO_PROXY list. Go's rules, from httpproxy's {@code config.init} and {@code useProxy}:
     * <ul>
     * <li>The list is split at ','. Each entry has Unicode space trimmed and is lower-cased. Empty entries are
     * skipped.</li>
     * <li>An entry of exactly "*" turns the proxy off for everything.</li>
     * <li>An entry that parses as a CIDR (v4 or v6, no zone) matches any IP in it, on any port.</li>
     * <li>{@code IP}, {@code IP:port} and {@code [IPv6]:port} match that IP. IPv4 and IPv4-mapped IPv6 are the same
     * IP. With a port, only that port matches ({@code host:} with an empty port matches any port). An entry with an
     * empty host, such as ":1", is ignored.</li>
     * <li>Anything else is a domain. "foo.com" matches foo.com and every name under it. ".foo.com" and "*.foo.com"
     * match only names under it. The match is a plain suffix test on the lower-cased host, so "*" anywhere but at
     * the start is literal, and a domain entry never matches an IP literal.</li>
     * <li>Before the list is read: "localhost" (exactly, case-sensitive) and loopback IPs (127/8, ::1,
     * ::ffff:127/104) are never proxied, whatever the list says.</li>
     * </ul>
     * Malformed entries are not errors. Go turns them into domain entries that never match. {@link #notes()} points
     * out the ones an operator probably meant differently.
     */
    public static final class NoProxy {
        private final String source;
        private final String raw;
        private final boolean all;
        private final List<Cidr> cidrs;
        private final List<IpEntry> ips;
        private final List<DomainEntry> domains;
        private final int entries;
        private final List<String> notes;

        private NoProxy(String source, String raw, boolean all, List<Cidr> cidrs, List<IpEntry> ips,
                List<DomainEntry> domains, List<String> notes) {
            this.source = source;
            this.raw = raw;
            this.all = all;
            this.cidrs = List.copyOf(cidrs);
            this.ips = List.copyOf(ips);
            this.domains = List.copyOf(domains);
            this.entries = all ? 1 : cidrs.size() + ips.size() + domains.size();
            this.notes = List.copyOf(notes);
        }

        /** Never throws. {@code source} names the list in notes (a variable or flag name), or is null. */
        public static NoProxy parse(String source, String raw) {
            String text = raw == null ? "" : raw;
            String name = source == null ? "NO_PROXY" : source;
            List<Cidr> cidrs = new ArrayList<>();
            List<IpEntry> ips = new ArrayList<>();
            List<DomainEntry> domains = new ArrayList<>();
            List<String> notes = new ArrayList<>();
            int used = 0;
            int dropped = 0;
            for (String piece : text.split(",", -1)) {
                String p = goToLower(goTrimSpace(piece));
                if (p.isEmpty()) {
                    continue;
                }
                if (p.equals("*")) {
                    // Go stops reading at "*", and nothing else in the list matters any more.
                    return new NoProxy(source, text, true, List.of(), List.of(), List.of(), List.of());
                }
                if (used == MAX_NO_PROXY_ENTRIES) {
                    dropped++;
                    continue;
                }
                used++;
                Cidr cidr = Cidr.parse(p);
                if (cidr != null) {
                    cidrs.add(cidr);
                    continue;
                }
                String phost;
                String pport = "";
                String[] hp = splitHostPort(p);
                if (hp != null) {
                    phost = hp[0];
                    pport = hp[1];
                    if (phost.isEmpty()) {
                        note(notes, name + " entry '" + printable(p, MAX_SHOWN) + "' has no host; Go ignores it");
                        continue;
                    }
                    if (phost.charAt(0) == '[' && phost.charAt(phost.length() - 1) == ']') {
                        phost = phost.substring(1, phost.length() - 1);
                    }
                } else {
                    phost = p;
                }
                byte[] ip = Ip.parseIp(phost);
                if (ip != null) {
                    ips.add(new IpEntry(p, ip, pport));
                    continue;
                }
                // Go checks this too. A stripped "[]" is the only way here, and SplitHostPort never produces one.
                if (phost.isEmpty()) {
                    continue;
                }
                explainDomain(notes, name, p, phost);
                if (phost.startsWith("*.")) {
                    phost = phost.substring(1);
                }
                boolean matchHost = false;
                if (phost.charAt(0) != '.') {
                    matchHost = true;
                    phost = "." + phost;
                }
                domains.add(new DomainEntry(p, idnaAscii(phost), pport, matchHost));
            }
            if (dropped > 0) {
                note(notes, name + " has " + (used + dropped) + " entries; only the first " + MAX_NO_PROXY_ENTRIES
                        + " are used (Go would use all)");
            }
            return new NoProxy(source, text, false, cidrs, ips, domains, notes);
        }

        /** The entries Go reads as domains, although the operator most likely meant something else. */
        private static void explainDomain(List<String> notes, String name, String entry, String phost) {
            String shown = "'" + printable(entry, MAX_SHOWN) + "'";
            if (phost.indexOf('/') >= 0) {
                note(notes, name + " entry " + shown + " is not a valid CIDR; Go compares it as a host name,"
                        + " so it never matches");
            } else if (phost.indexOf('*', phost.startsWith("*.") ? 1 : 0) >= 0) {
                note(notes, name + " entry " + shown + " uses '*' where Go does not expand it (only a leading"
                        + " '*.' or a lone '*' are wildcards)");
            } else if (looksLikeIp(phost)) {
                note(notes, name + " entry " + shown + " is not an IP address Go accepts (leading zeros, a zone,"
                        + " or malformed); Go compares it as a host name, so it never matches an IP");
            }
        }

        private static boolean looksLikeIp(String s) {
            boolean v4ish = s.indexOf('.') >= 0 && s.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
            int pct = s.indexOf('%');
            String addr = pct < 0 ? s : s.substring(0, pct);
            boolean v6ish = addr.indexOf(':') >= 0 && addr.chars()
                    .allMatch(c -> c == ':' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
            return v4ish || v6ish;
        }

        private static void note(List<String> notes, String text) {
            if (notes.size() < MAX_NOTES) {
                notes.add(text);
            } else if (notes.size() == MAX_NOTES) {
                notes.add("(further NO_PROXY notes left out)");
            }
        }

        /**
         * Why Go fetches {@code https://host:port} directly, or empty when it uses the proxy. Port 0 or less
         * means none was written, so 443 applies.
         */
        public Optional<String> bypassReason(String host, int port) {
            String h = host == null ? "" : host;
            // url.Hostname() drops one pair of brackets. canonicalAddr then converts IDNs to ASCII.
            if (h.length() >= 2 && h.charAt(0) == '[' && h.charAt(h.length() - 1) == ']') {
                h = h.substring(1, h.length() - 1);
            }
            h = idnaAscii(h);
            String p = port <= 0 ? "443" : Integer.toString(port);
            // useProxy splits the JoinHostPort form again. Any bracket left in the host makes that fail, and Go
            // then answers "do not proxy".
            if (h.indexOf('[') >= 0 || h.indexOf(']') >= 0) {
                return Optional.of("the host is not a valid host name or address, and Go then connects directly");
            }
            if (h.equals("localhost")) {
                return Optional.of("Go never proxies localhost");
            }
            Ip.Addr ip = Ip.parseAddr(h);
            if (ip != null && Ip.isLoopback(ip.b16())) {
                return Optional.of("Go never proxies loopback addresses");
            }
            if (all) {
                return Optional.of(describeSource() + " is '*'");
            }
            String addr = goToLower(goTrimSpace(h));
            if (ip != null) {
                for (Cidr c : cidrs) {
                    if (c.contains(ip.b16())) {
                        return Optional.of(describeSource() + " entry '" + printable(c.entry(), MAX_SHOWN) + "' matches");
                    }
                }
                for (IpEntry e : ips) {
                    if (Arrays.equals(e.ip(), ip.b16()) && (e.port().isEmpty() || e.port().equals(p))) {
                        return Optional.of(describeSource() + " entry '" + printable(e.entry(), MAX_SHOWN) + "' matches");
                    }
                }
                return Optional.empty();
            }
            for (DomainEntry d : domains) {
                if ((addr.endsWith(d.host()) || (d.matchHost() && addr.equals(d.host().substring(1))))
                        && (d.port().isEmpty() || d.port().equals(p))) {
                    return Optional.of(describeSource() + " entry '" + printable(d.entry(), MAX_SHOWN) + "' matches");
                }
            }
            return Optional.empty();
        }

        private String describeSource() {
            return source == null ? "NO_PROXY" : source;
        }

        public String raw() {
            return raw;
        }

        public String source() {
            return source;
        }

        /** Entries in use: entries past the bound, empty entries and ignored ones (":1") are left out. A lone "*" is 1. */
        public int size() {
            return entries;
        }

        public boolean bypassesEverything() {
            return all;
        }

        public List<String> notes() {
            return notes;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof NoProxy other && Objects.equals(source, other.source) && raw.equals(other.raw);
        }

        @Override
        public int hashCode() {
            return Objects.hash(source, raw);
        }

        @Override
        public String toString() {
            return describeSource() + " (" + entries + (entries == 1 ? " entry" : " entries") + ") \""
                    + printable(raw, 400) + "\"";
        }
    }

    /** A v4 CIDR has a 4-byte net and mask. A v6 CIDR has 16, unless its network is IPv4-mapped, as with net.IPNet. */
    private record Cidr(String entry, byte[] net, byte[] mask) {
        /** net.ParseCIDR: the address has no zone. The prefix is decimal, with leading zeros allowed, at most the address's bits. */
        static Cidr parse(String entry) {
            int slash = entry.indexOf('/');
            if (slash < 0) {
                return null;
            }
            Ip.Addr a = Ip.parseAddr(entry.substring(0, slash));
            if (a == null || a.zoned()) {
                return null;
            }
            String digits = entry.substring(slash + 1);
            int n = 0;
            int i = 0;
            for (; i < digits.length() && digits.charAt(i) >= '0' && digits.charAt(i) <= '9'; i++) {
                n = n * 10 + (digits.charAt(i) - '0');
                if (n >= 0xFFFFFF) {
                    return null;
                }
            }
            int bits = a.is4() ? 32 : 128;
            if (i == 0 || i != digits.length() || n > bits) {
                return null;
            }
            byte[] mask = new byte[bits / 8];
            for (int b = 0; b < n; b++) {
                mask[b / 8] |= (byte) (0x80 >>> (b % 8));
            }
            byte[] ip = a.is4() ? Arrays.copyOfRange(a.b16(), 12, 16) : a.b16();
            byte[] net = new byte[ip.length];
            for (int b = 0; b < ip.length; b++) {
                net[b] = (byte) (ip[b] & mask[b]);
            }
            // IPNet.Contains compares in 4 bytes when the network number is IPv4-mapped. So "::ffff:0:0/96"
            // matches every IPv4 address, as in Go.
            byte[] net4 = Ip.to4(net);
            if (net4 != null && net.length == 16) {
                return new Cidr(entry, net4, Arrays.copyOfRange(mask, 12, 16));
            }
            return new Cidr(entry, net, mask);
        }

        boolean contains(byte[] ip16) {
            byte[] x = Ip.to4(ip16);
            if (x == null) {
                x = ip16;
            }
            if (x.length != net.length) {
                return false;
            }
            for (int i = 0; i < x.length; i++) {
                if ((net[i] & mask[i]) != (x[i] & mask[i])) {
                    return false;
                }
            }
            return true;
        }
    }

    private record IpEntry(String entry, byte[] ip, String port) {
    }

    /** host always starts with '.'. matchHost also accepts the host itself (the entry was written without a dot). */
    private record DomainEntry(String entry, String host, String port, boolean matchHost) {
    }

    /**
     * net.SplitHostPort. It returns null where Go returns an error. The brackets around an IPv6 host are removed.
     * The port is not checked.
     */
    /** Go's net.SplitHostPort: {host, port}, or null where Go returns an error. Shared with the kubelet's matching. */
    public static String[] splitHostPort(String hostport) {
        int i = hostport.lastIndexOf(':');
        if (i < 0) {
            return null;
        }
        String host;
        int j = 0;
        int k = 0;
        if (hostport.charAt(0) == '[') {
            int end = hostport.indexOf(']');
            if (end < 0 || end + 1 == hostport.length() || end + 1 != i) {
                return null;
            }
            host = hostport.substring(1, end);
            j = 1;
            k = end + 1;
        } else {
            host = hostport.substring(0, i);
            if (host.indexOf(':') >= 0) {
                return null;
            }
        }
        if (hostport.indexOf('[', j) >= 0 || hostport.indexOf(']', k) >= 0) {
            return null;
        }
        return new String[] {host, hostport.substring(i + 1)};
    }

    /**
     * Go's strings.TrimSpace trims unicode.IsSpace. That includes NBSP and NEL, but not the FS..US controls that
     * {@link String#strip()} would take.
     */
    static String goTrimSpace(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isGoSpace(s.charAt(start))) {
            start++;
        }
        while (end > start && isGoSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean isGoSpace(char c) {
        switch (c) {
            case '\t', '\n', 0x0b, '\f', '\r', ' ', 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
                return true;
            default:
                return c >= 0x2000 && c <= 0x200a;
        }
    }

    /** Go's strings.ToLower maps each code point by itself. toLowerCase(Locale) would also apply special casing (İ). */
    static String goToLower(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> b.appendCodePoint(Character.toLowerCase(cp)));
        return b.toString();
    }

    /**
     * Go's idnaASCII. ASCII text passes through unchanged. Otherwise each label gets the IDNA lookup form, and
     * the input comes back unchanged if any label fails. Go's UTS #46 profile allows empty labels (".例.com"), and
     * java.net.IDN does not, so labels are converted one at a time. java.net.IDN is IDNA2003, so ß, ς and the
     * joiners come out differently from Go.
     */
    static String idnaAscii(String s) {
        if (s.chars().allMatch(c -> c < 0x80)) {
            return s;
        }
        StringBuilder out = new StringBuilder(s.length() + 16);
        int start = 0;
        for (int i = 0; i <= s.length(); i++) {
            if (i == s.length() || isLabelDot(s.charAt(i))) {
                String label = s.substring(start, i);
                // Punycode costs grow with the square of the label length. A label this long cannot resolve anyway.
                if (label.length() > 255) {
                    return s;
                }
                if (!label.isEmpty()) {
                    try {
                        out.append(IDN.toASCII(label, IDN.USE_STD3_ASCII_RULES));
                    } catch (RuntimeException e) {
                        // IllegalArgumentException for invalid names. Anything else the JDK throws on odd
                        // surrogates must not escape proxyFor either.
                        return s;
                    }
                }
                if (i < s.length()) {
                    out.append('.');
                }
                start = i + 1;
            }
        }
        return out.toString();
    }

    private static boolean isLabelDot(char c) {
        return c == '.' || c == '\u3002' || c == '\uff0e' || c == '\uff61';
    }

    /** netip.ParseAddr and net.ParseIP. An address is its 16-byte form, with IPv4 as IPv4-mapped, like net.IP.Equal. */
    static final class Ip {
        private Ip() {
        }

        record Addr(byte[] b16, boolean is4, boolean zoned) {
        }

        /** net.ParseIP: netip.ParseAddr without a zone. */
        static byte[] parseIp(String s) {
            Addr a = parseAddr(s);
            return a == null || a.zoned() ? null : a.b16();
        }

        /** netip.ParseAddr: the first '.' or ':' picks the family. IPv4 is strict (no leading zeros). A zone is allowed on IPv6. */
        static Addr parseAddr(String s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '.') {
                    byte[] v4 = parseV4(s);
                    return v4 == null ? null : new Addr(mapped(v4), true, false);
                }
                if (c == ':') {
                    return parseV6(s);
                }
                if (c == '%') {
                    return null;
                }
            }
            return null;
        }

        private static byte[] parseV4(String s) {
            byte[] fields = new byte[4];
            int val = 0;
            int pos = 0;
            int digLen = 0;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c >= '0' && c <= '9') {
                    if (digLen == 1 && val == 0) {
                        return null;
                    }
                    val = val * 10 + (c - '0');
                    digLen++;
                    if (val > 255) {
                        return null;
                    }
                } else if (c == '.') {
                    if (i == 0 || i == s.length() - 1 || s.charAt(i - 1) == '.' || pos == 3) {
                        return null;
                    }
                    fields[pos++] = (byte) val;
                    val = 0;
                    digLen = 0;
                } else {
                    return null;
                }
            }
            if (pos < 3) {
                return null;
            }
            fields[3] = (byte) val;
            return fields;
        }

        private static Addr parseV6(String in) {
            String s = in;
            boolean zoned = false;
            int pct = s.indexOf('%');
            if (pct >= 0) {
                if (pct == s.length() - 1) {
                    return null;
                }
                s = s.substring(0, pct);
                zoned = true;
            }
            byte[] ip = new byte[16];
            int ellipsis = -1;
            if (s.length() >= 2 && s.charAt(0) == ':' && s.charAt(1) == ':') {
                ellipsis = 0;
                s = s.substring(2);
                if (s.isEmpty()) {
                    return new Addr(ip, false, zoned);
                }
            }
            int i = 0;
            while (i < 16) {
                int off = 0;
                int acc = 0;
                for (; off < s.length(); off++) {
                    int d = hexValue(s.charAt(off));
                    if (d < 0) {
                        break;
                    }
                    acc = (acc << 4) + d;
                    if (off > 3 || acc > 0xffff) {
                        return null;
                    }
                }
                if (off == 0) {
                    return null;
                }
                if (off < s.length() && s.charAt(off) == '.') {
                    if ((ellipsis < 0 && i != 12) || i + 4 > 16) {
                        return null;
                    }
                    byte[] v4 = parseV4(s);
                    if (v4 == null) {
                        return null;
                    }
                    System.arraycopy(v4, 0, ip, i, 4);
                    s = "";
                    i += 4;
                    break;
                }
                ip[i] = (byte) (acc >> 8);
                ip[i + 1] = (byte) acc;
                i += 2;
                s = s.substring(off);
                if (s.isEmpty()) {
                    break;
                }
                if (s.charAt(0) != ':' || s.length() == 1) {
                    return null;
                }
                s = s.substring(1);
                if (s.charAt(0) == ':') {
                    if (ellipsis >= 0) {
                        return null;
                    }
                    ellipsis = i;
                    s = s.substring(1);
                    if (s.isEmpty()) {
                        break;
                    }
                }
            }
            if (!s.isEmpty()) {
                return null;
            }
            if (i < 16) {
                if (ellipsis < 0) {
                    return null;
                }
                int n = 16 - i;
                for (int j = i - 1; j >= ellipsis; j--) {
                    ip[j + n] = ip[j];
                }
                Arrays.fill(ip, ellipsis, ellipsis + n, (byte) 0);
            } else if (ellipsis >= 0) {
                return null;
            }
            return new Addr(ip, false, zoned);
        }

        private static int hexValue(char c) {
            if (c >= '0' && c <= '9') {
                return c - '0';
            }
            if (c >= 'a' && c <= 'f') {
                return c - 'a' + 10;
            }
            if (c >= 'A' && c <= 'F') {
                return c - 'A' + 10;
            }
            return -1;
        }

        private static byte[] mapped(byte[] v4) {
            byte[] b = new byte[16];
            b[10] = (byte) 0xff;
            b[11] = (byte) 0xff;
            System.arraycopy(v4, 0, b, 12, 4);
            return b;
        }

        /** net.IP.To4: the last 4 bytes of an IPv4-mapped address, a 4-byte address unchanged, otherwise null. */
        static byte[] to4(byte[] ip) {
            if (ip.length == 4) {
                return ip;
            }
            for (int i = 0; i < 10; i++) {
                if (ip[i] != 0) {
                    return null;
                }
            }
            return ip[10] == (byte) 0xff && ip[11] == (byte) 0xff ? Arrays.copyOfRange(ip, 12, 16) : null;
        }

        /** net.IP.IsLoopback: 127/8 (IPv4-mapped too) or ::1. */
        static boolean isLoopback(byte[] ip16) {
            byte[] v4 = to4(ip16);
            if (v4 != null) {
                return v4[0] == 127;
            }
            for (int i = 0; i < 15; i++) {
                if (ip16[i] != 0) {
                    return false;
                }
            }
            return ip16[15] == 1;
        }
    }

    /**
     * The subset of Go's net/url.Parse (Go 1.26) that decides which proxy a value names. Go parses UTF-8 bytes,
     * so this works on "byte strings", with one char per byte (UTF-8 read as ISO-8859-1). Percent-decoding then
     * yields the exact bytes Go would. Error reasons are fixed phrases and never quote the input, which may hold
     * a password.
     *
     * <p>Two version notes. Go 1.24.8/1.25.2 and later reject '[' past the start of a host and brackets around
     * anything but IPv6, and this follows them. Go 1.26's strict colons (urlstrictcolons) apply only to programs
     * whose go.mod says go 1.26 or later, and the containerd and kubelet releases in use predate that. So a
     * second colon in a host is read the older way: the last colon starts the port.
     */
    static final class GoUrl {
        private GoUrl() {
        }

        record Interpretation(Proxy proxy, boolean reread, String error) {
        }

        private record Parsed(String scheme, String host, String user, String password) {
        }

        /** Thrown where url.Parse returns an error. There is no stack trace, because this is ordinary control flow. */
        private static final class BadUrl extends Exception {
            private static final long serialVersionUID = 1L;

            BadUrl(String reason) {
                super(reason, null, false, false);
            }
        }

        private enum Mode { HOST, ZONE, USERINFO, PATH, FRAGMENT }

        /**
         * httpproxy.parseProxy and then the transport's canonicalAddr. Go keeps the value if it parses with both a
         * scheme and a host. Otherwise it tries "http://" + value. If that fails too, the first parse's error
         * counts. If the first parse had no error, Go keeps that first URL, even when it has no host.
         */
        static Interpretation interpretProxy(String value) {
            String bytes = new String(value.getBytes(UTF_8), ISO_8859_1);
            Parsed first = null;
            BadUrl firstError = null;
            try {
                first = parse(bytes);
            } catch (BadUrl e) {
                firstError = e;
            }
            if (firstError != null || first.scheme().isEmpty() || first.host().isEmpty()) {
                try {
                    Parsed second = parse("http://" + bytes);
                    return new Interpretation(toProxy(second), value.contains("://"), null);
                } catch (BadUrl ignored) {
                    // Go falls back to the first attempt's outcome.
                }
            }
            if (firstError != null) {
                return new Interpretation(null, false, firstError.getMessage());
            }
            return new Interpretation(toProxy(first), false, null);
        }

        private static Proxy toProxy(Parsed url) {
            // url.Hostname() and url.Port(): the port is the digits after the last colon, and the brackets go.
            String host = url.host();
            String port = "";
            int colon = host.lastIndexOf(':');
            if (colon >= 0 && validOptionalPort(host.substring(colon))) {
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
            return new Proxy(url.scheme(), idnaAscii(text(host)), number, url.user() == null ? null : text(url.user()),
                    url.password() == null ? null : text(url.password()));
        }

        private static String text(String bytes) {
            return new String(bytes.getBytes(ISO_8859_1), UTF_8);
        }

        /** url.Parse with viaRequest=false. It keeps only what picks a proxy. */
        private static Parsed parse(String raw) throws BadUrl {
            int hash = raw.indexOf('#');
            String u = hash < 0 ? raw : raw.substring(0, hash);
            Parsed parsed = parseWithoutFragment(u);
            if (hash >= 0 && hash + 1 < raw.length()) {
                unescape(raw.substring(hash + 1), Mode.FRAGMENT);
            }
            return parsed;
        }

        private static Parsed parseWithoutFragment(String raw) throws BadUrl {
            for (int i = 0; i < raw.length(); i++) {
                char c = raw.charAt(i);
                if (c < 0x20 || c == 0x7f) {
                    throw new BadUrl("it contains a control character");
                }
            }
            if (raw.equals("*")) {
                return new Parsed("", "", null, null);
            }
            String scheme = "";
            String rest = raw;
            for (int i = 0; i < raw.length(); i++) {
                char c = raw.charAt(i);
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
                    continue;
                }
                if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
                    if (i == 0) {
                        break;
                    }
                    continue;
                }
                if (c == ':') {
                    if (i == 0) {
                        throw new BadUrl("missing protocol scheme");
                    }
                    scheme = raw.substring(0, i).toLowerCase(java.util.Locale.ROOT);
                    rest = raw.substring(i + 1);
                }
                break;
            }
            if (rest.endsWith("?") && rest.indexOf('?') == rest.length() - 1) {
                rest = rest.substring(0, rest.length() - 1);
            } else if (rest.indexOf('?') >= 0) {
                rest = rest.substring(0, rest.indexOf('?'));
            }
            if (!rest.startsWith("/")) {
                if (!scheme.isEmpty()) {
                    // scheme:opaque, such as "proxy.corp:3128". It has no host, so the caller retries with http://.
                    return new Parsed(scheme, "", null, null);
                }
                int slash = rest.indexOf('/');
                if ((slash < 0 ? rest : rest.substring(0, slash)).indexOf(':') >= 0) {
                    throw new BadUrl("first path segment in URL cannot contain colon");
                }
            }
            String host = "";
            String user = null;
            String password = null;
            if ((!scheme.isEmpty() || !rest.startsWith("///")) && rest.startsWith("//")) {
                String authority = rest.substring(2);
                rest = "";
                int slash = authority.indexOf('/');
                if (slash >= 0) {
                    rest = authority.substring(slash);
                    authority = authority.substring(0, slash);
                }
                int at = authority.lastIndexOf('@');
                host = parseHost(at < 0 ? authority : authority.substring(at + 1));
                if (at >= 0) {
                    String userinfo = authority.substring(0, at);
                    if (!validUserinfo(userinfo)) {
                        throw new BadUrl("invalid character in the user info (percent-encode it)");
                    }
                    int colon = userinfo.indexOf(':');
                    if (colon < 0) {
                        user = unescape(userinfo, Mode.USERINFO);
                    } else {
                        user = unescape(userinfo.substring(0, colon), Mode.USERINFO);
                        password = unescape(userinfo.substring(colon + 1), Mode.USERINFO);
                    }
                }
            }
            unescape(rest, Mode.PATH);
            return new Parsed(scheme, host, user, password);
        }

        private static String parseHost(String host) throws BadUrl {
            int open = host.lastIndexOf('[');
            if (open > 0) {
                throw new BadUrl("invalid IP-literal");
            }
            if (open == 0) {
                int close = host.lastIndexOf(']');
                if (close < 0) {
                    throw new BadUrl("missing ']' in host");
                }
                String colonPort = host.substring(close + 1);
                if (!validOptionalPort(colonPort)) {
                    throw new BadUrl("invalid port after host");
                }
                String hostname = host.substring(1, close);
                int zone = hostname.indexOf("%25");
                String unescaped = zone < 0 ? unescape(hostname, Mode.HOST)
                        : unescape(hostname.substring(0, zone), Mode.HOST)
                                + unescape(hostname.substring(zone), Mode.ZONE);
                Ip.Addr addr = Ip.parseAddr(unescaped);
                if (addr == null) {
                    throw new BadUrl("invalid IPv6 address in brackets");
                }
                if (addr.is4()) {
                    throw new BadUrl("invalid IP-literal");
                }
                return "[" + unescaped + "]" + colonPort;
            }
            int colon = host.lastIndexOf(':');
            if (colon >= 0 && !validOptionalPort(host.substring(colon))) {
                throw new BadUrl("invalid port after host");
            }
            return unescape(host, Mode.HOST);
        }

        private static boolean validOptionalPort(String port) {
            if (port.isEmpty()) {
                return true;
            }
            if (port.charAt(0) != ':') {
                return false;
            }
            for (int i = 1; i < port.length(); i++) {
                if (port.charAt(i) < '0' || port.charAt(i) > '9') {
                    return false;
                }
            }
            return true;
        }

        private static boolean validUserinfo(String s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (!isAlnum(c) && "-._:~!$&'()*+,;=%@".indexOf(c) < 0) {
                    return false;
                }
            }
            return true;
        }

        private static boolean isAlnum(char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        }

        /** shouldEscape(c, encodeHost): what may not appear literally in a host. */
        private static boolean hostNeedsEscape(int c) {
            return !(isAlnum((char) c) || "!$&'()*+,;=:[]<>\"-_.~".indexOf(c) >= 0);
        }

        private static String unescape(String s, Mode mode) throws BadUrl {
            boolean any = false;
            for (int i = 0; i < s.length(); ) {
                char c = s.charAt(i);
                if (c == '%') {
                    if (i + 2 >= s.length() || !isHex(s.charAt(i + 1)) || !isHex(s.charAt(i + 2))) {
                        throw new BadUrl("invalid percent-escape");
                    }
                    boolean percent25 = s.startsWith("%25", i);
                    // In a host only non-ASCII bytes may be escaped (RFC 3986), apart from the %25 that starts a zone.
                    if (mode == Mode.HOST && Character.digit(s.charAt(i + 1), 16) < 8 && !percent25) {
                        throw new BadUrl("invalid percent-escape in host");
                    }
                    int v = Integer.parseInt(s.substring(i + 1, i + 3), 16);
                    // A zone may escape only bytes it could also hold literally (Windows puts spaces there).
                    if (mode == Mode.ZONE && !percent25 && v != ' ' && hostNeedsEscape(v)) {
                        throw new BadUrl("invalid percent-escape in IPv6 zone");
                    }
                    any = true;
                    i += 3;
                } else {
                    if ((mode == Mode.HOST || mode == Mode.ZONE) && c < 0x80 && hostNeedsEscape(c)) {
                        throw new BadUrl("invalid character in host name");
                    }
                    i++;
                }
            }
            if (!any) {
                return s;
            }
            StringBuilder b = new StringBuilder(s.length());
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '%') {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 3), 16));
                    i += 2;
                } else {
                    b.append(c);
                }
            }
            return b.toString();
        }

        private static boolean isHex(char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        }

        /** url.Userinfo.String's escaping: a username prints as valid, log-safe URL text. */
        static String escapeUserinfo(String user) {
            StringBuilder b = new StringBuilder();
            for (byte raw : user.getBytes(UTF_8)) {
                int c = raw & 0xff;
                if (c < 0x80 && (isAlnum((char) c) || "-_.~$&+,;=".indexOf(c) >= 0)) {
                    b.append((char) c);
                } else {
                    b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                            .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
                }
            }
            return b.toString();
        }
    }
}
