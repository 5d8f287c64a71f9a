package dev.pullpath.probe;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The kernel's routes ({@code /proc/net/route}, {@code /proc/net/ipv6_route}; {@code -Dpullpath.procNet=DIR}
 * points elsewhere). They settle what an errno cannot: Netty's epoll transport reports ENETUNREACH and
 * EHOSTUNREACH alike as NoRouteToHostException, and only the route table says whether there was no route at all,
 * an unreachable route, or a route whose next hop did not answer. And a public address with no default route for
 * its family means a subnet without NAT.
 */
final class RouteTable {
    private static final int RTF_UP = 0x1;
    private static final int RTF_REJECT = 0x200;

    /** What the longest matching route says about an address. */
    enum Match { NONE, REJECT, ROUTED, UNKNOWN }

    private RouteTable() {
    }

    private static List<String> read(boolean v6) throws IOException {
        Path dir = Path.of(System.getProperty("pullpath.procNet", "/proc/net"));
        return Files.readAllLines(dir.resolve(v6 ? "ipv6_route" : "route"));
    }

    /** True, false, or null when the table cannot be read (then nothing is concluded from it). */
    static Boolean hasDefaultRoute(boolean v6) {
        try {
            return match(read(v6), v6, v6 ? new byte[16] : new byte[4], true) == Match.ROUTED;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    static Match lookup(InetAddress address) {
        boolean v6 = address instanceof Inet6Address;
        try {
            return match(read(v6), v6, address.getAddress(), false);
        } catch (IOException | RuntimeException e) {
            return Match.UNKNOWN;
        }
    }

    /**
     * The longest-prefix match of {@code address} in a table's lines; with {@code defaultOnly}, only a /0 route
     * counts. IPv4 lines: Iface Destination Gateway Flags RefCnt Use Metric Mask (hex, host byte order, a header
     * first); IPv6 lines: dest plen src splen nexthop metric refcnt use flags iface (hex, network order).
     */
    static Match match(List<String> lines, boolean v6, byte[] address, boolean defaultOnly) {
        int best = -1;
        Match result = Match.NONE;
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            byte[] dest;
            int prefix;
            int flags;
            try {
                if (v6) {
                    if (f.length < 10 || f[0].length() != 32) {
                        continue;
                    }
                    dest = java.util.HexFormat.of().parseHex(f[0]);
                    prefix = Integer.parseInt(f[1], 16);
                    flags = Integer.parseInt(f[8], 16);
                } else {
                    if (f.length < 8 || f[1].length() != 8 || f[0].equals("Iface")) {
                        continue;
                    }
                    // The kernel prints the address as a host-order integer.
                    int raw = (int) Long.parseLong(f[1], 16);
                    dest = toBytes(java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN
                            ? Integer.reverseBytes(raw) : raw);
                    prefix = Integer.bitCount((int) Long.parseLong(f[7], 16));
                    flags = Integer.parseInt(f[3], 16);
                }
            } catch (NumberFormatException e) {
                continue;
            }
            if ((flags & RTF_UP) == 0 || (defaultOnly && prefix != 0) || prefix <= best
                    || !samePrefix(dest, address, prefix)) {
                continue;
            }
            best = prefix;
            result = (flags & RTF_REJECT) != 0 ? Match.REJECT : Match.ROUTED;
        }
        return result;
    }

    private static byte[] toBytes(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    private static boolean samePrefix(byte[] a, byte[] b, int bits) {
        for (int i = 0; i < bits; i++) {
            int mask = 0x80 >>> (i % 8);
            if ((a[i / 8] & mask) != (b[i / 8] & mask)) {
                return false;
            }
        }
        return true;
    }
}
