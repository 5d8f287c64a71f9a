package dev.pullpath.probe;

/**
 * Applies a {@link Transport.Shape} to a socket before it connects. Netty's dual-stack sockets carry IPv4 as mapped
 * addresses, so the IPv4 option is set on every socket and the IPv6 one on IPv6 destinations.
 */
final class SocketShaping {
    private SocketShaping() {
    }

    /** False when an option the shape asks for could not be set: the attempt would not test what it claims. */
    static boolean apply(int fd, Transport.Shape shape, boolean v6) {
        boolean ok = true;
        if (shape.hopLimit() > 0) {
            ok = v6 ? NativeSockets.setInt(fd, NativeSockets.SOL_IPV6, NativeSockets.IPV6_UNICAST_HOPS,
                    shape.hopLimit()) : NativeSockets.setInt(fd, NativeSockets.SOL_IP, NativeSockets.IP_TTL,
                    shape.hopLimit());
        }
        if (shape.maxSegment() > 0) {
            ok &= NativeSockets.setInt(fd, NativeSockets.SOL_TCP, NativeSockets.TCP_MAXSEG, shape.maxSegment());
        }
        return ok;
    }
}
