package dev.pullpath.probe;

import dev.pullpath.Version;
import dev.pullpath.config.ContainerdHosts;
import dev.pullpath.config.IpLiterals;
import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.ProxySettings;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.AddressReport;
import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Evidence;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import io.netty.channel.Channel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The walk to one resolved address: TCP, then (after a timed-out connect) the traceroute, TLS, then (after a stalled
 * handshake) the path-MTU check, and the HTTP connection the registry hops will use, opened in the handshake's turn.
 */
final class AddressWalk {
    private final Walk w;

    AddressWalk(Walk walk) {
        this.w = walk;
    }

    CompletableFuture<AddressPath> walk(InetAddress address, Target target) {
        InetSocketAddress to = new InetSocketAddress(address, target.port());
        return w.connect.run(to, w.ctx).thenCompose(connected -> {
            AddressPath start = new AddressPath(address, List.of(), Diagnosis.OK, null, null, null, null);
            if (!connected.ok()) {
                return traced(start.then(connected, null, null), to);
            }
            if (!w.depth.includes(Phase.TLS) || (w.plainHttp && !w.depth.includes(Phase.HTTP))) {
                connected.value().close();
                return CompletableFuture.completedFuture(start.then(connected, null, null));
            }
            if (w.plainHttp) {
                // An http:// mirror: the registry hops go over TCP as it is, as containerd sends them.
                AddressPath p = start.then(connected, null, null);
                Channel channel = connected.value();
                CompletableFuture<AddressPath> opened = new CompletableFuture<>();
                channel.eventLoop().execute(() -> opened.complete(new AddressPath(address, p.phases(), p.diagnosis(),
                        null, HttpConnection.open(channel, target.authority(), Version.userAgent(),
                        w.options.maxBodyBytes(), w.hostSettings), null, null)));
                return opened;
            }
            return w.tls.run(new TlsProbe.Peer(connected.value(), target.host(), target.port(), false), w.ctx)
                    .thenCompose(handshake -> w.pathMtu.recheck(to, target.host(), handshake, w.ctx))
                    .thenApply(handshake -> {
                AddressPath p = start.then(connected, null, null).then(handshake, null, null);
                // HTTP goes on the pipeline in the handshake's own event-loop turn: what the server sends right
                // after it (a close, an early byte) must meet a decoder, whichever address carries /v2/.
                HttpConnection http = handshake.ok() && w.depth.includes(Phase.HTTP)
                        ? w.http(handshake.value(), target.authority()) : null;
                return new AddressPath(address, p.phases(), p.diagnosis(), handshake.value(), http, null, null);
            });
        });
    }

    /**
     * A connect that timed out, followed by a TCP traceroute of its address when this probe may trace: the
     * summary then says how far SYNs get. One trace per probe: the first address to time out.
     */
    private CompletableFuture<AddressPath> traced(AddressPath failed, InetSocketAddress to) {
        if (w.traceroute == null || failed.diagnosis().reason() != Reason.FIREWALL_CONNECT_TIMEOUT
                || !w.traceTaken.compareAndSet(false, true)) {
            return CompletableFuture.completedFuture(failed);
        }
        return w.traceroute.trace(to).thenApply(trace -> {
            w.trace = trace;
            return new AddressPath(failed.address(), failed.phases(), new Diagnosis(failed.diagnosis().reason(),
                    failed.diagnosis().summary() + "; " + trace.summary()), null, null, null, null);
        });
    }
}
