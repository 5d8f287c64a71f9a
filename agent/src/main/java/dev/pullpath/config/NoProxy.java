package dev.pullpath.config;

import dev.pullpath.gocompat.GoStrings;
import dev.pullpath.gocompat.NetIp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

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
public final class NoProxy {
    private static final int MAX_NOTES = 10;
    private static final int MAX_SHOWN = 120;

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
            String p = GoStrings.toLower(GoStrings.trimSpace(piece));
            if (p.isEmpty()) {
                continue;
            }
            if (p.equals("*")) {
                // Go stops reading at "*", and nothing else in the list matters any more.
                return new NoProxy(source, text, true, List.of(), List.of(), List.of(), List.of());
            }
            if (used == ProxySettings.MAX_NO_PROXY_ENTRIES) {
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
            String[] hp = GoStrings.splitHostPort(p);
            if (hp != null) {
                phost = hp[0];
                pport = hp[1];
                if (phost.isEmpty()) {
                    note(notes, name + " entry '" + ProxySettings.printable(p, MAX_SHOWN) + "' has no host; Go ignores it");
                    continue;
                }
                if (phost.charAt(0) == '[' && phost.charAt(phost.length() - 1) == ']') {
                    phost = phost.substring(1, phost.length() - 1);
                }
            } else {
                phost = p;
            }
            byte[] ip = NetIp.parseIp(phost);
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
            domains.add(new DomainEntry(p, GoStrings.idnaAscii(phost), pport, matchHost));
        }
        if (dropped > 0) {
            note(notes, name + " has " + (used + dropped) + " entries; only the first " + ProxySettings.MAX_NO_PROXY_ENTRIES
                    + " are used (Go would use all)");
        }
        return new NoProxy(source, text, false, cidrs, ips, domains, notes);
    }

    /** The entries Go reads as domains, although the operator most likely meant something else. */
    private static void explainDomain(List<String> notes, String name, String entry, String phost) {
        String shown = "'" + ProxySettings.printable(entry, MAX_SHOWN) + "'";
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
        h = GoStrings.idnaAscii(h);
        String p = port <= 0 ? "443" : Integer.toString(port);
        // useProxy splits the JoinHostPort form again. Any bracket left in the host makes that fail, and Go
        // then answers "do not proxy".
        if (h.indexOf('[') >= 0 || h.indexOf(']') >= 0) {
            return Optional.of("the host is not a valid host name or address, and Go then connects directly");
        }
        if (h.equals("localhost")) {
            return Optional.of("Go never proxies localhost");
        }
        NetIp.Addr ip = NetIp.parseAddr(h);
        if (ip != null && NetIp.isLoopback(ip.b16())) {
            return Optional.of("Go never proxies loopback addresses");
        }
        if (all) {
            return Optional.of(describeSource() + " is '*'");
        }
        String addr = GoStrings.toLower(GoStrings.trimSpace(h));
        if (ip != null) {
            for (Cidr c : cidrs) {
                if (c.contains(ip.b16())) {
                    return Optional.of(describeSource() + " entry '" + ProxySettings.printable(c.entry(), MAX_SHOWN) + "' matches");
                }
            }
            for (IpEntry e : ips) {
                if (Arrays.equals(e.ip(), ip.b16()) && (e.port().isEmpty() || e.port().equals(p))) {
                    return Optional.of(describeSource() + " entry '" + ProxySettings.printable(e.entry(), MAX_SHOWN) + "' matches");
                }
            }
            return Optional.empty();
        }
        for (DomainEntry d : domains) {
            if ((addr.endsWith(d.host()) || (d.matchHost() && addr.equals(d.host().substring(1))))
                    && (d.port().isEmpty() || d.port().equals(p))) {
                return Optional.of(describeSource() + " entry '" + ProxySettings.printable(d.entry(), MAX_SHOWN) + "' matches");
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
                + ProxySettings.printable(raw, 400) + "\"";
    }

    /** A v4 CIDR has a 4-byte net and mask. A v6 CIDR has 16, unless its network is IPv4-mapped, as with net.IPNet. */
    private record Cidr(String entry, byte[] net, byte[] mask) {
        /** net.ParseCIDR: the address has no zone. The prefix is decimal, with leading zeros allowed, at most the address's bits. */
        static Cidr parse(String entry) {
            int slash = entry.indexOf('/');
            if (slash < 0) {
                return null;
            }
            NetIp.Addr a = NetIp.parseAddr(entry.substring(0, slash));
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
            byte[] net4 = NetIp.to4(net);
            if (net4 != null && net.length == 16) {
                return new Cidr(entry, net4, Arrays.copyOfRange(mask, 12, 16));
            }
            return new Cidr(entry, net, mask);
        }

        boolean contains(byte[] ip16) {
            byte[] x = NetIp.to4(ip16);
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
}
