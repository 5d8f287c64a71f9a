package dev.pullpath.probe;

import dev.pullpath.config.Target;
import dev.pullpath.credentials.Credential;
import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.Reason;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The registry check repeated with a stored login, as a client that holds one pulls: {@code GET /v2/} with Basic,
 * and on a Bearer challenge the token realm with Basic, then {@code /v2/} with that token. A login the registry
 * refuses while anonymous access works is the incident this hop exists for: an expired {@code helm registry
 * login} sent instead of anonymous access. The credential is sent only to the target and its realm, over TLS.
 */
public final class AuthProbe implements Hop<AuthProbe.WithLogin, String> {
    private final long timeoutMillis;

    public AuthProbe(long timeoutMillis) {
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public Phase phase() {
        return Phase.AUTH;
    }

    /** The registry check with one stored login; the registry's answer is the value (the login's evidence). */
    @Override
    public CompletableFuture<PhaseResult<String>> run(WithLogin input, ProbeContext ctx) {
        return check(input.credential(), input.on().connection(), ctx.target(), input.on().where(), ctx.dialer());
    }

    /** A stored login to try, on the connection of the registry exchange. */
    record WithLogin(Credential credential, RegistryProbe.OnConnection on) {
    }

    private CompletableFuture<PhaseResult<String>> check(Credential credential, HttpConnection registry,
                                                         Target target, String where, Dialer dialer) {
        PhaseClock start = PhaseClock.start(dialer);
        String who = credential.describe();
        boolean expired = credential.expiresAt() != null && credential.expiresAt().isBefore(Instant.now());
        if (credential.username() == null) {
            return CompletableFuture.completedFuture(PhaseResult.ok(Phase.AUTH, start.nanos(), who + ": an identity token is "
                    + "exchanged at the realm (OAuth2); not checked by this release", "not checked"));
        }
        String basic = credential.basicAuthorization();
        CompletableFuture<PhaseResult<String>> bounded = new CompletableFuture<>();
        long budget = 2 * timeoutMillis;
        Deadlines.bound(bounded, budget, dialer.pace(), () ->
                PhaseResult.failed(Phase.AUTH, start.nanos(), Reason.AUTH_TOKEN_FAILED, where + ": no answer with the stored "
                        + "login within " + budget + "ms (" + who + ")", "no answer"));
        // The hop's requests share one connection when the registry's is gone, closed when the hop ends.
        RegistryConnection connection = new RegistryConnection(registry, target, dialer);
        bounded.whenComplete((r, e) -> connection.close());
        dialer.send(connection::get, conn -> conn.get(conn.api(RegistryProbe.V2),
                        Map.of("Authorization", basic), timeoutMillis))
                .thenCompose(first -> {
                    List<AuthChallenge> challenges = AuthChallenge.parse(first.all("www-authenticate"));
                    AuthChallenge bearer = challenges.stream().filter(c -> c.is("Bearer")
                            && c.param("realm") != null).findFirst().orElse(null);
                    if (first.status() != 401 || bearer == null) {
                        return CompletableFuture.completedFuture(first);
                    }
                    return viaRealm(bearer, basic, connection, target, dialer);
                })
                .handle((answer, error) -> {
                    if (error != null) {
                        Diagnosis d = RegistryProbe.failedExchange(error, where, "GET /v2/ with the stored login",
                                timeoutMillis);
                        return PhaseResult.failed(Phase.AUTH, start.nanos(), expired ? Reason.AUTH_CREDENTIALS_EXPIRED
                                : d.reason(), who + ": " + d.summary(), "no answer");
                    }
                    String line = answer.statusLine() + RegistryProbe.bodyNote(answer);
                    String detail = who + ": GET /v2/ with it -> " + line;
                    if (expired) {
                        return PhaseResult.failed(Phase.AUTH, start.nanos(), Reason.AUTH_CREDENTIALS_EXPIRED, where + ": "
                                + detail + " (the token expired " + credential.expiresAt() + ")", line);
                    }
                    int status = answer.status();
                    if (status == 400 || status == 401 || status == 403) {
                        return PhaseResult.failed(Phase.AUTH, start.nanos(), Reason.AUTH_CREDENTIALS_REJECTED, where + ": "
                                + detail, line);
                    }
                    Diagnosis d = RegistryProbe.classify(answer, true);
                    return d.ok() ? PhaseResult.ok(Phase.AUTH, start.nanos(), detail, line)
                            : PhaseResult.failed(Phase.AUTH, start.nanos(), d.reason(), where + ": " + detail + ": "
                            + d.summary(), line);
                })
                .whenComplete((r, e) -> {
                    if (r != null) {
                        bounded.complete(r);
                    }
                });
        return bounded;
    }

    /**
     * Basic to the token realm, then /v2/ with the token it gives: what a client does on a Bearer challenge. A realm
     * on the registry's host is asked on the hop's connection, as {@link RegistryAuthorization} asks it.
     */
    private CompletableFuture<BoundedResponse> viaRealm(AuthChallenge bearer, String basic,
                                                        RegistryConnection connection, Target target, Dialer dialer) {
        return connection.get().thenCompose(c -> RealmToken.fetch(bearer, basic, c, target, dialer, timeoutMillis))
                .thenCompose(result -> {
                    if (result.token() == null) {
                        return CompletableFuture.completedFuture(result.answer()); // the realm's refusal is the answer
                    }
                    return dialer.send(connection::get, conn -> conn.get(conn.api(RegistryProbe.V2),
                            Map.of("Authorization", "Bearer " + result.token()), timeoutMillis));
                });
    }
}
