package dev.pullpath.testing;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * The one address fixtures may bind to or talk to. Built from raw bytes rather than
 * {@code InetAddress.getLoopbackAddress()} because that may be {@code ::1} when IPv6 is preferred.
 */
public final class Loopback {
    public static final InetAddress IPV4;

    static {
        try {
            // No host name attached: getHostString() then yields "127.0.0.1" without any lookup.
            IPV4 = InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
        } catch (UnknownHostException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Loopback() {}

    public static InetSocketAddress address(int port) {
        return new InetSocketAddress(IPV4, port);
    }
}
