package dev.pullpath.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** IP literal checks that never touch the resolver (InetAddress.getByName would, for a name). */
public final class IpLiterals {
    private IpLiterals() {
    }

    public static boolean isLiteral(String host) {
        return org.xbill.DNS.Address.isDottedQuad(host) || isV6(host);
    }

    private static boolean isV6(String host) {
        return host.indexOf(':') >= 0 && org.xbill.DNS.Address.toByteArray(stripZone(host), org.xbill.DNS.Address.IPv6) != null;
    }

    private static String stripZone(String host) {
        int pct = host.indexOf('%');
        return pct < 0 ? host : host.substring(0, pct);
    }

    /** The address of a literal; throws {@link ConfigException} for anything else. */
    public static InetAddress parse(String host) {
        byte[] bytes = org.xbill.DNS.Address.toByteArray(stripZone(host),
                host.indexOf(':') >= 0 ? org.xbill.DNS.Address.IPv6 : org.xbill.DNS.Address.IPv4);
        if (bytes == null) {
            throw new ConfigException("'" + host + "' is not an IP address");
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new ConfigException("'" + host + "' is not an IP address", e);
        }
    }

    public static String family(InetAddress a) {
        return a instanceof java.net.Inet6Address ? "ipv6" : "ipv4";
    }

    /**
     * The canonical text of an address: dotted quad, or RFC 5952 for IPv6 ({@code 2001:db8::1}, where
     * {@link InetAddress#getHostAddress()} would print {@code 2001:db8:0:0:0:0:0:1}).
     */
    public static String text(InetAddress a) {
        if (!(a instanceof java.net.Inet6Address)) {
            return a.getHostAddress();
        }
        byte[] b = a.getAddress();
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLen - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString();
    }
}
