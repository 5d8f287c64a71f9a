package dev.pullpath.probe;

import dev.pullpath.diagnosis.Reason;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * Confirms a path-MTU black hole. A handshake that stalls may be a router dropping the server's full-size
 * packets while the ICMP fragmentation-needed that would shrink them is filtered: the ClientHello is small and
 * passes, the certificate flight is not. One more handshake with a small MSS (set before connect, so the server
 * sends small segments) tells: if it completes, the path's MTU is the fault, not a filter.
 *
 * <p>536 is the IPv4 default MSS every host must accept (RFC 9293), 1220 the IPv6 minimum MTU (1280) less headers.
 * Runs only after a stalled handshake, once, within one more phase timeout.
 */
final class PathMtuCheck {
    static final int MSS_IPV4 = 536;
    static final int MSS_IPV6 = 1220;

    private final Transport transport;
    private final TlsProbe tls;
    private final long timeoutMillis;

    PathMtuCheck(Transport transport, TlsProbe tls, long timeoutMillis) {
        this.transport = transport;
        this.tls = tls;
        this.timeoutMillis = timeoutMillis;
    }

    /** {@code stalled} itself, rediagnosed as a black hole when the small-MSS handshake completes. */
    CompletableFuture<PhaseResult<TlsProbe.Session>> recheck(InetSocketAddress address, String host,
                                                             PhaseResult<TlsProbe.Session> stalled, ProbeContext ctx) {
        if (stalled.ok() || !TlsProbe.stalled(stalled) || !NativeSockets.available()) {
            return CompletableFuture.completedFuture(stalled);
        }
        int mss = address.getAddress() instanceof Inet6Address ? MSS_IPV6 : MSS_IPV4;
        return transport.connect(address, timeoutMillis, Transport.Shape.maxSegment(mss)).thenCompose(attempt -> {
            if (!attempt.connected()) {
                return CompletableFuture.completedFuture(stalled.withNote("the retry with MSS " + mss
                        + " did not connect"));
            }
            TlsProbe.Peer peer = new TlsProbe.Peer(attempt.channel(), host, address.getPort(), false);
            return tls.run(peer, ctx).thenApply(small -> {
                if (!small.ok()) {
                    return stalled.withNote("the handshake with MSS " + mss + " fails too ("
                            + small.diagnosis().reason().code() + "): not the path MTU");
                }
                small.value().channel().close();
                return stalled.rediagnosed(Reason.FIREWALL_PMTU_BLACK_HOLE, stalled.diagnosis().summary()
                        + "; the TLS handshake completes with MSS " + mss + " and stalls at the path's default: a "
                        + "router drops packets larger than the path MTU and its ICMP "
                        + (mss == MSS_IPV6 ? "packet-too-big" : "fragmentation-needed") + " is filtered");
            });
        });
    }
}
