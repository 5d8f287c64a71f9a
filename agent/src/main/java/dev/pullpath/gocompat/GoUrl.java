package dev.pullpath.gocompat;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.Locale;

/**
 * The subset of Go's {@code net/url.Parse} (viaRequest=false) that pullpath's reproductions depend on: which proxy
 * a value names (scheme, host, user info) and what the kubelet's image matching compares (host, path). This is the
 * one net/url parser in pullpath. Go parses UTF-8 bytes, so this works on "byte strings" (UTF-8 read as
 * ISO-8859-1, one char per byte); percent-decoding then yields the exact bytes Go would, and the fields come back
 * decoded as UTF-8 text. Error reasons are fixed phrases and never quote the input, which may hold a password.
 *
 * <p>Version notes: Go 1.24.8/1.25.2 and later reject '[' past the start of a host and brackets around anything
 * but IPv6 ({@link Brackets#IPV6_ONLY}). Go 1.26's strict colons (urlstrictcolons) apply only to programs whose
 * go.mod says go 1.26 or later, and the containerd and kubelet releases in use predate that. So a second colon in
 * a host is read the older way: the last colon starts the port.
 *
 * @param scheme lower case, "" when none was written
 * @param host the host with its port, as {@code url.URL.Host}: percent-escapes decoded, brackets kept
 * @param user decoded user name, or null when there is no user info
 * @param password decoded password, or null when the user info has no ':'
 * @param path decoded path, query and fragment dropped
 */
public record GoUrl(String scheme, String host, String user, String password, String path) {

    /** How a bracketed host is checked. */
    public enum Brackets {
        /**
         * Go 1.24.8/1.25.2 and later: '[' only at the start of the host, the brackets must hold an IPv6 address
         * (not IPv4), and a zone's escapes are checked as RFC 6874 allows. The proxy reading (ProxySettings) uses
         * this: containerd and kubelet releases are built with such a Go, and its tests pin these rejections.
         */
        IPV6_ONLY,
        /**
         * The looser check the kubelet's image matching was written against: a host starting with '[' needs a
         * closing ']' followed by an optional port, and everything else is checked as plain host characters (a
         * zone then may escape only "%25" and non-ASCII, and '[' elsewhere in a host is allowed). Kept so that
         * {@code matchImages} patterns the kubelet tests accept keep matching exactly as before the parsers were
         * merged; a pattern never holds an IPv6 literal in practice, so the difference matters only for odd input.
         */
        LENIENT
    }

    /** Where url.Parse returns an error. There is no stack trace, because this is ordinary control flow. */
    public static final class BadUrl extends Exception {
        private static final long serialVersionUID = 1L;

        BadUrl(String reason) {
            super(reason, null, false, false);
        }
    }

    private enum Mode { HOST, ZONE, USERINFO, PATH, FRAGMENT }

    /** url.Parse, or null where Go returns an error. */
    public static GoUrl parseOrNull(String raw, Brackets brackets) {
        try {
            return parse(raw, brackets);
        } catch (BadUrl e) {
            return null;
        }
    }

    /** url.Parse: the fragment is cut off first and only checked for valid escapes. */
    public static GoUrl parse(String raw, Brackets brackets) throws BadUrl {
        String bytes = new String(raw.getBytes(UTF_8), ISO_8859_1);
        int hash = bytes.indexOf('#');
        String u = hash < 0 ? bytes : bytes.substring(0, hash);
        GoUrl parsed = parseWithoutFragment(u, brackets);
        if (hash >= 0 && hash + 1 < bytes.length()) {
            unescape(bytes.substring(hash + 1), Mode.FRAGMENT);
        }
        return new GoUrl(parsed.scheme(), text(parsed.host()), parsed.user() == null ? null : text(parsed.user()),
                parsed.password() == null ? null : text(parsed.password()), text(parsed.path()));
    }

    /** Go's validOptionalPort: "" or ':' followed by digits only. */
    public static boolean validOptionalPort(String port) {
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

    private static String text(String bytes) {
        return new String(bytes.getBytes(ISO_8859_1), UTF_8);
    }

    private static GoUrl parseWithoutFragment(String raw, Brackets brackets) throws BadUrl {
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new BadUrl("it contains a control character");
            }
        }
        if (raw.equals("*")) {
            return new GoUrl("", "", null, null, "");
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
                scheme = raw.substring(0, i).toLowerCase(Locale.ROOT);
                rest = raw.substring(i + 1);
            }
            break;
        }
        if (rest.indexOf('?') >= 0) {
            rest = rest.substring(0, rest.indexOf('?'));
        }
        if (!rest.startsWith("/")) {
            if (!scheme.isEmpty()) {
                // scheme:opaque, such as "proxy.corp:3128": no host and no path.
                return new GoUrl(scheme, "", null, null, "");
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
            String hostPart = at < 0 ? authority : authority.substring(at + 1);
            host = brackets == Brackets.IPV6_ONLY ? parseHost(hostPart) : parseHostLenient(hostPart);
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
        return new GoUrl(scheme, host, user, password, unescape(rest, Mode.PATH));
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
                    : unescape(hostname.substring(0, zone), Mode.HOST) + unescape(hostname.substring(zone), Mode.ZONE);
            NetIp.Addr addr = NetIp.parseAddr(unescaped);
            if (addr == null) {
                throw new BadUrl("invalid IPv6 address in brackets");
            }
            if (addr.is4()) {
                throw new BadUrl("invalid IP-literal");
            }
            return "[" + unescaped + "]" + colonPort;
        }
        return unescapePlainHost(host);
    }

    /** {@link Brackets#LENIENT}. */
    private static String parseHostLenient(String host) throws BadUrl {
        if (host.startsWith("[")) {
            int close = host.lastIndexOf(']');
            if (close < 0 || !validOptionalPort(host.substring(close + 1))) {
                throw new BadUrl("invalid port after host");
            }
            return unescape(host, Mode.HOST);
        }
        return unescapePlainHost(host);
    }

    private static String unescapePlainHost(String host) throws BadUrl {
        int colon = host.lastIndexOf(':');
        if (colon >= 0 && !validOptionalPort(host.substring(colon))) {
            throw new BadUrl("invalid port after host");
        }
        return unescape(host, Mode.HOST);
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
}
