package dev.pullpath.diagnosis;

import com.fasterxml.jackson.annotation.JsonValue;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * Where an answer address lives: the first hint that a public name is overridden (a private hosted zone, a hosts
 * entry) or points at a VPC endpoint. The label is stable API (metric label {@code scope}).
 */
public enum AddressScope {
    PUBLIC("public"),
    /** RFC 1918, RFC 6598 shared address space, IPv6 unique local (fc00::/7). */
    PRIVATE("private"),
    LINK_LOCAL("link_local"),
    LOOPBACK("loopback");

    private final String label;

    AddressScope(String label) {
        this.label = label;
    }

    @JsonValue
    public String label() {
        return label;
    }

    public static AddressScope of(InetAddress a) {
        if (a.isLoopbackAddress()) {
            return LOOPBACK;
        }
        if (a.isLinkLocalAddress()) {
            return LINK_LOCAL;
        }
        byte[] b = a.getAddress();
        if (a instanceof Inet4Address) {
            int o0 = b[0] & 0xff;
            int o1 = b[1] & 0xff;
            boolean rfc1918 = o0 == 10 || (o0 == 172 && o1 >= 16 && o1 <= 31) || (o0 == 192 && o1 == 168);
            boolean rfc6598 = o0 == 100 && o1 >= 64 && o1 <= 127;
            return rfc1918 || rfc6598 ? PRIVATE : PUBLIC;
        }
        if (a instanceof Inet6Address) {
            return (b[0] & 0xfe) == 0xfc ? PRIVATE : PUBLIC;
        }
        return PUBLIC;
    }
}
