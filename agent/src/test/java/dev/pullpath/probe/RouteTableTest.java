package dev.pullpath.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Longest-prefix matches over tables as the kernel prints them (captured from a node and a namespace). */
class RouteTableTest {
    private static final List<String> V4 = List.of(
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
            "eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0",
            "eth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
            "lo\t006433C6\t00000000\t0201\t0\t0\t0\t00FFFFFF\t0\t0\t0");
    private static final List<String> V6_NO_DEFAULT = List.of(
            "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 "
                    + "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0",
            "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
                    + "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo");

    private static RouteTable.Match v4(String address) throws Exception {
        return RouteTable.match(V4, false, InetAddress.getByName(address).getAddress(), false);
    }

    @Test
    void ipv4LongestPrefixWins() throws Exception {
        assertEquals(RouteTable.Match.ROUTED, v4("10.0.0.7"));
        assertEquals(RouteTable.Match.REJECT, v4("198.51.100.7"), "ip route add unreachable 198.51.100.0/24");
        assertEquals(RouteTable.Match.ROUTED, v4("203.0.113.10"), "the default route");
        assertEquals(RouteTable.Match.ROUTED, RouteTable.match(V4, false, new byte[4], true));
        assertEquals(RouteTable.Match.NONE, RouteTable.match(V4.subList(0, 1), false, new byte[4], true));
    }

    @Test
    void ipv6UnreachableDefaultIsNoDefault() {
        // The kernel's own "unreachable ::/0 dev lo" (flags 0x200200, not up) is not a way out.
        assertEquals(RouteTable.Match.NONE, RouteTable.match(V6_NO_DEFAULT, true, new byte[16], true));
        byte[] ula = new byte[16];
        ula[0] = (byte) 0xfd;
        assertEquals(RouteTable.Match.ROUTED, RouteTable.match(V6_NO_DEFAULT, true, ula, false));
    }

    @Test
    void garbageLinesAreSkipped() {
        assertEquals(RouteTable.Match.NONE, RouteTable.match(List.of("", "x y z", "eth0 zz 0 0 0 0 0 0"), false,
                new byte[4], false));
    }
}
