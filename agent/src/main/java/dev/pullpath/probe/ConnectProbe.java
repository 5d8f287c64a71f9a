package dev.pullpath.probe;

import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.Reason;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/** The TCP hop: one connect to one address, classified from what the kernel said (or did not say). */
public final class ConnectProbe {
    private final Transport transport;
    private final long timeoutMillis;

    public ConnectProbe(Transport transport, long timeoutMillis) {
        this.transport = transport;
        this.timeoutMillis = timeoutMillis;
    }

    public CompletableFuture<PhaseResult<Channel>> connect(InetSocketAddress address) {
        long queued = System.nanoTime();
        CompletableFuture<PhaseResult<Channel>> result = new CompletableFuture<>();
        ChannelFuture f = transport.bootstrap()
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeoutMillis))
                .connect(address);
        String where = DnsProbe.hostPort(address);
        f.addListener((ChannelFuture done) -> {
            // Time the kernel's work, not the wait for a busy event loop to pick the connect up.
            WireObserver wire = done.channel().pipeline().get(WireObserver.class);
            long start = wire != null && wire.connectIssuedNanos() != 0 ? wire.connectIssuedNanos() : queued;
            if (done.isSuccess()) {
                result.complete(PhaseResult.ok(Phase.CONNECT, start, "connected to " + where, done.channel()));
            } else {
                done.channel().close();
                Failure failure = classify(done.cause(), where, timeoutMillis);
                result.complete(PhaseResult.failed(Phase.CONNECT, start, failure.reason, failure.summary));
            }
        });
        return result;
    }

    record Failure(Reason reason, String summary) {
    }

    /** Maps what the socket layer reported to the hop's reason; the summary keeps the errno. */
    static Failure classify(Throwable cause, String where, long timeoutMillis) {
        String message = String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT);
        if (cause instanceof ConnectTimeoutException || message.contains("connection timed out")) {
            return new Failure(Reason.FIREWALL_CONNECT_TIMEOUT,
                    where + ": no SYN-ACK within " + timeoutMillis + "ms (SYN dropped)");
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
        if (cause instanceof ConnectException || message.contains("connection refused")) {
            return new Failure(Reason.FIREWALL_CONNECT_REFUSED, where + ": ECONNREFUSED (answered with TCP RST)");
        }
        return new Failure(Reason.FIREWALL_NETWORK_UNREACHABLE,
                where + ": connect failed: " + cause.getClass().getSimpleName() + ": " + cause.getMessage());
    }
}
