package dev.pullpath.probe;

import dev.pullpath.diagnosis.AddressScope;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.Reason;
import io.netty.channel.Channel;
import io.netty.channel.ConnectTimeoutException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/** The TCP hop: one connect to one address, classified from what the kernel said (or did not say). */
public final class ConnectProbe implements Hop<InetSocketAddress, Channel> {
    private final Transport transport;
    private final long timeoutMillis;

    public ConnectProbe(Transport transport, long timeoutMillis) {
        this.transport = transport;
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public Phase phase() {
        return Phase.CONNECT;
    }

    @Override
    public CompletableFuture<PhaseResult<Channel>> run(InetSocketAddress address, ProbeContext ctx) {
        return connect(address);
    }

    private CompletableFuture<PhaseResult<Channel>> connect(InetSocketAddress address) {
        String where = DnsProbe.hostPort(address);
        return transport.connect(address, timeoutMillis, Transport.Shape.DEFAULT).thenApply(attempt -> {
            // Timed from when the kernel got the connect, not from the wait for a busy event loop to pick it up.
            if (attempt.connected()) {
                return PhaseResult.ok(Phase.CONNECT, attempt.issuedNanos(), "connected to " + where,
                        attempt.channel());
            }
            Failure failure = noEgressRoute(classify(attempt.cause(), attempt.icmp(), address, where, timeoutMillis),
                    attempt.icmp(), address, where);
            return PhaseResult.failed(Phase.CONNECT, attempt.issuedNanos(), failure.reason, failure.summary);
        });
    }

    record Failure(Reason reason, String summary) {
    }

    /**
     * The kernel refused a public address for want of any route: with no default route for the family, that is a
     * private subnet without NAT, which is what the operator needs to hear, not "network unreachable".
     */
    static Failure noEgressRoute(Failure failure, IcmpErrorQueue.IcmpError icmp, InetSocketAddress address,
                                 String where) {
        if (failure.reason != Reason.FIREWALL_NETWORK_UNREACHABLE || icmp != null
                || AddressScope.of(address.getAddress()) != AddressScope.PUBLIC) {
            return failure;
        }
        boolean v6 = address.getAddress() instanceof java.net.Inet6Address;
        if (!Boolean.FALSE.equals(RouteTable.hasDefaultRoute(v6))) {
            return failure;
        }
        return new Failure(Reason.FIREWALL_NO_EGRESS_ROUTE, where + ": ENETUNREACH: the node has no default "
                + (v6 ? "IPv6" : "IPv4") + " route, so no public address is reachable from it");
    }

    /**
     * Maps what the socket layer reported to the hop's reason; the summary keeps the errno, and the ICMP message
     * and the hop that sent it when the error queue held one.
     */
    static Failure classify(Throwable cause, IcmpErrorQueue.IcmpError icmp, InetSocketAddress address, String where,
                            long timeoutMillis) {
        String message = String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT);
        if (icmp != null) {
            String from = icmp.offender() == null ? "a router" : dev.pullpath.config.IpLiterals.text(icmp.offender());
            if (icmp.adminProhibited()) {
                return new Failure(Reason.FIREWALL_ADMIN_PROHIBITED, where + ": rejected by " + from + ": "
                        + icmp.describe());
            }
            if (icmp.hostUnreachable()) {
                return new Failure(Reason.FIREWALL_HOST_UNREACHABLE, where + ": EHOSTUNREACH, reported by " + from
                        + ": " + icmp.describe());
            }
            if (icmp.networkUnreachable()) {
                return new Failure(Reason.FIREWALL_NETWORK_UNREACHABLE, where + ": ENETUNREACH, reported by " + from
                        + ": " + icmp.describe());
            }
            if (icmp.portUnreachable()) {
                return new Failure(Reason.FIREWALL_CONNECT_REFUSED, where + ": refused by " + from + ": "
                        + icmp.describe());
            }
        }
        if (cause instanceof ConnectTimeoutException || message.contains("connection timed out")) {
            return new Failure(Reason.FIREWALL_CONNECT_TIMEOUT,
                    where + ": no SYN-ACK within " + timeoutMillis + "ms (SYN dropped)");
        }
        if (cause instanceof NoRouteToHostException && icmp == null) {
            // epoll reports ENETUNREACH and EHOSTUNREACH alike; the route table tells them apart.
            switch (RouteTable.lookup(address.getAddress())) {
                case NONE -> {
                    return new Failure(Reason.FIREWALL_NETWORK_UNREACHABLE,
                            where + ": ENETUNREACH (no route to this address in the node's route table)");
                }
                case REJECT -> {
                    return new Failure(Reason.FIREWALL_HOST_UNREACHABLE,
                            where + ": EHOSTUNREACH (an unreachable route in the node's route table)");
                }
                default -> {
                    // routed, but the next hop did not answer ARP/ND, or the table could not be read
                }
            }
        }
        if (cause instanceof NoRouteToHostException || message.contains("no route to host")) {
            return new Failure(Reason.FIREWALL_HOST_UNREACHABLE, where + ": EHOSTUNREACH (no route to host)");
        }
        if (message.contains("network is unreachable") || message.contains("network unreachable")) {
            return new Failure(Reason.FIREWALL_NETWORK_UNREACHABLE, where + ": ENETUNREACH (network is unreachable)");
        }
        if (message.contains("cannot assign requested address")) {
            return new Failure(Reason.FIREWALL_NETWORK_UNREACHABLE,
                    where + ": EADDRNOTAVAIL (the node has no source address for this family)");
        }
        if (message.contains("permission denied") || message.contains("operation not permitted")) {
            return new Failure(Reason.FIREWALL_ADMIN_PROHIBITED, where + ": " + (message.contains("permission")
                    ? "EACCES (a prohibit route or the node's own packet filter)"
                    : "EPERM (the node's own packet filter, e.g. an iptables OUTPUT rule)"));
        }
        if (message.contains("invalid argument")) {
            return new Failure(Reason.FIREWALL_NETWORK_UNREACHABLE, where + ": EINVAL (a blackhole route in the "
                    + "node's route table)");
        }
        if (cause instanceof ConnectException || message.contains("connection refused")) {
            return new Failure(Reason.FIREWALL_CONNECT_REFUSED, where + ": ECONNREFUSED (answered with TCP RST)");
        }
        return new Failure(Reason.FIREWALL_NETWORK_UNREACHABLE,
                where + ": connect failed: " + cause.getClass().getSimpleName() + ": " + cause.getMessage());
    }
}
