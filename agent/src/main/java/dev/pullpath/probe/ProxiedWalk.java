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
 * The path through an HTTPS proxy, as containerd goes: the proxy's name resolved, its addresses tried in order,
 * CONNECT naming the target (which the node does not resolve), TLS to the target inside the tunnel.
 */
final class ProxiedWalk {
    private final Walk w;

    ProxiedWalk(Walk walk) {
        this.w = walk;
    }

    /** The path through an HTTPS proxy as far as it went; {@code session} is open when TLS succeeded. */
    record Tunnelled(List<PhaseReport> phases, Diagnosis diagnosis, InetAddress proxyAddress,
                     TlsProbe.Session session, HttpConnection connection, Evidence.Dns dns, Evidence.Proxy proxy) {
    }

    /**
     * As containerd goes through a proxy: the proxy's name is resolved, its addresses tried in order, CONNECT
     * names the target (which the node does not resolve), and TLS to the target runs inside the tunnel.
     */
    CompletableFuture<Tunnelled> tunnel(Target target, ProxySettings.Proxy proxy, Depth to) {
        String shown = proxy.redacted();
        return w.dns.run(proxy.host(), w.ctx).thenCompose(resolved -> {
            List<PhaseReport> phases = new ArrayList<>(List.of(resolved.report()));
            Evidence.Dns dnsEvidence = resolved.value() == null ? null : resolved.value().evidence();
            if (!resolved.ok()) {
                return CompletableFuture.completedFuture(new Tunnelled(phases, new Diagnosis(
                        Reason.PROXY_UNREACHABLE, "proxy " + shown + ": its name does not resolve: "
                        + resolved.failure().summary()), null, null, null, dnsEvidence,
                        new Evidence.Proxy(shown, null, null, null, null)));
            }
            if (proxy.isSocks() || proxy.tlsToProxy()) {
                return CompletableFuture.completedFuture(new Tunnelled(phases, new Diagnosis(
                        Reason.PROXY_UNREACHABLE, "proxy " + shown + ": only http:// proxies are probed by this "
                        + "release"), null, null, null, dnsEvidence, new Evidence.Proxy(shown, null, null, null,
                        null)));
            }
            List<InetAddress> addresses = w.capPerFamily(resolved.value().addresses());
            return connectInOrder(addresses, proxy.port(), 0, null).thenCompose(connected -> {
                PhaseReport c = connected.report();
                phases.add(new PhaseReport(Phase.PROXY_CONNECT, c.ok(), c.durationMs(), c.ok() ? c.detail()
                        + " (proxy " + shown + ")" : "proxy " + shown + ": " + c.detail()));
                if (!connected.ok()) {
                    return CompletableFuture.completedFuture(new Tunnelled(phases, new Diagnosis(
                            Reason.PROXY_UNREACHABLE, "proxy " + shown + ": " + connected.failure().summary()),
                            null, null, null, dnsEvidence, new Evidence.Proxy(shown, null, null, null, null)));
                }
                Channel channel = connected.value();
                InetSocketAddress remote = (InetSocketAddress) channel.remoteAddress();
                String where = DnsProbe.hostPort(remote);
                return w.proxyTunnel.run(new ProxyTunnel.ToProxy(channel, shown, where,
                            proxy.proxyAuthorization().orElse(null)), w.ctx.forTarget(target))
                        .thenCompose(opened -> {
                            phases.add(opened.report());
                            Evidence.Proxy proxyEvidence = opened.value();
                            if (!opened.ok() || !to.includes(Phase.TLS)) {
                                if (opened.ok()) {
                                    channel.close();
                                }
                                return CompletableFuture.completedFuture(new Tunnelled(phases,
                                        opened.diagnosis(), remote.getAddress(), null, null, dnsEvidence,
                                        proxyEvidence));
                            }
                            return w.tls.run(new TlsProbe.Peer(channel, target.host(), target.port(), true), w.ctx)
                                        .thenApply(h -> {
                                phases.add(h.report());
                                HttpConnection http = h.ok() && to.includes(Phase.HTTP)
                                        ? w.http(h.value(), target.authority()) : null;
                                return new Tunnelled(phases, h.diagnosis(), remote.getAddress(), h.value(), http,
                                        dnsEvidence, proxyEvidence);
                            });
                        });
            });
        });
    }

    /** Tries addresses in order until one connects, as Go's dialer does for a proxy. */
    private CompletableFuture<PhaseResult<Channel>> connectInOrder(List<InetAddress> addresses, int port,
                                                                   int index, PhaseResult<Channel> last) {
        if (index >= addresses.size()) {
            return CompletableFuture.completedFuture(last);
        }
        return w.connect.run(new InetSocketAddress(addresses.get(index), port), w.ctx).thenCompose(r -> r.ok()
                ? CompletableFuture.completedFuture(r) : connectInOrder(addresses, port, index + 1, r));
    }

    CompletableFuture<TargetReport> viaProxy(Target target, ProxySettings.Proxy proxy, Instant checkedAt) {
        return tunnel(target, proxy, w.depth).thenCompose(t -> {
            AddressPath path = new AddressPath(t.proxyAddress() == null ? null : t.proxyAddress(), t.phases().subList(1,
                    t.phases().size()), t.diagnosis(), t.session(), t.connection(), null, null);
            CompletableFuture<AddressPath> done;
            if (t.connection() == null) {
                if (t.session() != null && t.session().channel() != null && !w.depth.includes(Phase.HTTP)) {
                    t.session().channel().close();
                }
                done = CompletableFuture.completedFuture(path);
            } else {
                String where = "via proxy " + proxy.redacted();
                done = w.exchange.registryExchange(path, t.connection(), target, where);
            }
            return done.thenApply(p -> {
                List<PhaseReport> phases = new ArrayList<>(List.of(t.phases().get(0)));
                phases.addAll(p.phases());
                List<AddressReport> addresses = p.address() == null ? List.of()
                        : List.of(new AddressReport(IpLiterals.text(p.address()), IpLiterals.family(p.address()),
                        p.diagnosis(), p.phases()));
                Evidence evidence = w.withCredentialEvidence(new Evidence(t.dns(), t.session() == null ? null
                        : t.session().evidence(), p.http(), p.token(), t.proxy()));
                return new TargetReport(target.name(), p.diagnosis(), PathVerdicts.hint(p.diagnosis(), target, w.layer), phases,
                        addresses, evidence, checkedAt, null);
            });
        });
    }
}
