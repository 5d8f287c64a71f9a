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
 * The hops that ask the registry itself, on the one address that carries them: {@code GET /v2/}, the anonymous
 * token, the check repeated with each stored login, and the manifest. One registry exchange per probe, whatever the
 * number of addresses: a fleet must not multiply its load on the registry.
 */
final class RegistryExchange {
    /**
     * The most requests one walk sends the hosts of its path (each paced, at most, by the options' registry pace):
     * {@code /v2/}; the token and {@code /v2/} with it; each of at most four logins, with its token; the manifest
     * HEAD with its token, and each login's; the layer hop's manifests, blob, redirects and layer host. A bound, not
     * a count: the probe's overall deadline allows this many paces.
     */
    static final int MAX_REQUESTS = 48;

    private final Walk w;

    RegistryExchange(Walk walk) {
        this.w = walk;
    }

    /** Runs /v2/ and the token hop on the first address through TLS; closes every other connection. */
    CompletableFuture<List<AddressPath>> registryHops(Target target, List<AddressPath> paths) {
        int chosen = -1;
        for (int i = 0; i < paths.size(); i++) {
            AddressPath p = paths.get(i);
            if (p.diagnosis().ok() && chosen < 0 && w.depth.includes(Phase.HTTP)) {
                chosen = i;
            } else {
                p.close();
            }
        }
        if (chosen < 0) {
            return CompletableFuture.completedFuture(paths);
        }
        int index = chosen;
        AddressPath path = paths.get(index);
        String where = DnsProbe.hostPort(new InetSocketAddress(path.address(), target.port()));
        return registryExchange(path, path.connection(), target, where).thenApply(updated -> {
            List<AddressPath> out = new ArrayList<>(paths);
            out.set(index, updated);
            return out;
        });
    }

    /**
     * {@code GET /v2/} on {@code http}, then, on the whole path, the anonymous token, each stored login and the
     * manifest; closes the connection when done.
     */
    CompletableFuture<AddressPath> registryExchange(AddressPath path, HttpConnection http, Target target,
                                                            String where) {
        RegistryProbe.OnConnection on = new RegistryProbe.OnConnection(http, where);
        ProbeContext ctx = w.ctx.forTarget(target);
        return w.registry.run(on, ctx).thenCompose(check -> {
            AddressPath afterHttp = path.then(check, check.value().evidence(), null);
            if (!check.ok() || check.value().bearer() == null || !w.depth.includes(Phase.TOKEN)) {
                return CompletableFuture.completedFuture(afterHttp);
            }
            return w.token.run(new TokenProbe.Challenged(check.value().bearer(), on), ctx)
                    .thenApply(t -> afterHttp.then(t, afterHttp.http(), t.value()));
        }).thenCompose(p -> w.depth.includes(Phase.AUTH) && p.phases().stream().anyMatch(ph -> ph.phase() == Phase.HTTP
                && ph.ok()) ? withCredentials(p, http, target, where)
                .thenCompose(q -> withManifest(q, http, target, where))
                : CompletableFuture.completedFuture(p))
                .whenComplete((p, e) -> http.close());
    }

    /** Repeats the registry check with each stored login (at most four), after the anonymous one. */
    private CompletableFuture<AddressPath> withCredentials(AddressPath path, HttpConnection http, Target target,
                                                           String where) {
        List<dev.pullpath.credentials.Credential> usable = w.credentials.stream()
                .filter(dev.pullpath.credentials.Credential::usable).limit(4).toList();
        CompletableFuture<AddressPath> chain = CompletableFuture.completedFuture(path);
        RegistryProbe.OnConnection on = new RegistryProbe.OnConnection(http, where);
        ProbeContext ctx = w.ctx.forTarget(target);
        for (dev.pullpath.credentials.Credential c : usable) {
            chain = chain.thenCompose(p -> w.auth.run(new AuthProbe.WithLogin(c, on), ctx)
                    .thenApply(a -> {
                w.checked.put(c, a.value() == null ? "" : a.value());
                // The worst login decides: a client holding it pulls with it.
                AddressPath next = p.then(a, p.http(), p.token());
                return a.ok() && !p.diagnosis().ok() && p.phases().stream().anyMatch(ph -> ph.phase() == Phase.AUTH)
                        ? new AddressPath(next.address(), next.phases(), p.diagnosis(), next.session(),
                        next.connection(),
                        next.http(), next.token()) : next;
            }));
        }
        return chain;
    }

    /**
     * HEAD of the image's manifest, anonymously and then with each stored login. It decides only while the path
     * so far works: an earlier failure stays the diagnosis. An anonymous refusal does not decide when a stored
     * login then gets the manifest: a client holding the login pulls with it, as containerd answers the registry's
     * challenge (Bearer or Basic) with the login it has for the host.
     */
    private CompletableFuture<AddressPath> withManifest(AddressPath path, HttpConnection http, Target target,
                                                        String where) {
        if (w.image == null) {
            return CompletableFuture.completedFuture(path);
        }
        RegistryProbe.OnConnection on = new RegistryProbe.OnConnection(http, where);
        ProbeContext ctx = w.ctx.forTarget(target);
        RegistryAuthorization anonymous = authorization(null, http, target);
        // The authorization the pull goes on with: a login whose manifest came through, else anonymous access.
        java.util.concurrent.atomic.AtomicReference<RegistryAuthorization> pulling =
                new java.util.concurrent.atomic.AtomicReference<>();
        List<RegistryAuthorization> made = new java.util.concurrent.CopyOnWriteArrayList<>(List.of(anonymous));
        CompletableFuture<AddressPath> chain = w.manifest.run(new ManifestProbe.Request(
                w.image, anonymous, "anonymous", on), ctx).thenApply(m -> {
                    if (m.ok()) {
                        pulling.set(anonymous);
                    }
                    return keepFirstFailure(path, m);
                });
        for (dev.pullpath.credentials.Credential c : w.credentials.stream()
                .filter(dev.pullpath.credentials.Credential::usable).filter(c -> c.username() != null)
                .limit(4).toList()) {
            RegistryAuthorization login = authorization(c.basicAuthorization(), http, target);
            made.add(login);
            chain = chain.thenCompose(p -> w.manifest.run(new ManifestProbe.Request(w.image,
                    login, c.describe(), on), ctx).thenApply(m -> {
                        if (m.ok() && (pulling.get() == null || !pulling.get().withLogin())) {
                            pulling.set(login);
                        }
                        return loginDecides(p, m);
                    }));
        }
        return chain.thenCompose(p -> withLayer(p, pulling.get(), where, ctx, http))
                .whenComplete((p, e) -> made.forEach(RegistryAuthorization::close));
    }

    /**
     * After the manifest, the layer hop with the authorization the pull uses: the image's smallest blob, from the
     * host the registry sends layers from. Only while the path works: an earlier failure stays the diagnosis, and a
     * warning stays unless the layer hop fails or warns itself.
     */
    private CompletableFuture<AddressPath> withLayer(AddressPath p, RegistryAuthorization pulling, String where,
                                                     ProbeContext ctx, HttpConnection http) {
        if (!w.depth.includes(Phase.LAYER) || pulling == null || !p.diagnosis().ok()) {
            return CompletableFuture.completedFuture(p);
        }
        return w.layers.run(new LayerProbe.Request(w.image, pulling, where), ctx).thenApply(l -> {
            w.layer = l.value();
            AddressPath next = p.then(l, p.http(), p.token());
            boolean keepWarning = l.diagnosis().reason() == Reason.OK && p.diagnosis().reason() != Reason.OK;
            return keepWarning ? new AddressPath(next.address(), next.phases(), p.diagnosis(), next.session(),
                    next.connection(), next.http(), next.token()) : next;
        });
    }

    private RegistryAuthorization authorization(String login, HttpConnection http, Target target) {
        return new RegistryAuthorization(w.image.repository(), login, http, target, w.ctx.dialer(),
                w.options.timeoutMillis());
    }

    /**
     * A login's manifest HEAD after the anonymous one: it replaces an anonymous refusal at the manifest (the
     * client pulls with the login), and otherwise the first failure stays.
     */
    private AddressPath loginDecides(AddressPath p, PhaseResult<?> step) {
        boolean anonymousRefused = p.diagnosis().reason() == Reason.AUTH_ANONYMOUS_DENIED && !p.phases().isEmpty()
                && p.phases().get(p.phases().size() - 1).phase() == Phase.MANIFEST
                && p.phases().stream().filter(ph -> ph.phase() == Phase.MANIFEST).count() == 1;
        return anonymousRefused ? p.then(step, p.http(), p.token()) : keepFirstFailure(p, step);
    }

    private AddressPath keepFirstFailure(AddressPath p, PhaseResult<?> step) {
        AddressPath next = p.then(step, p.http(), p.token());
        return p.diagnosis().ok() ? next : new AddressPath(next.address(), next.phases(), p.diagnosis(), next.session(),
                next.connection(), next.http(), next.token());
    }
}
