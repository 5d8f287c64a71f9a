package dev.pullpath.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Evidence;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.Redaction;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The token hop of an anonymous pull: ask the challenge's realm for a token (the distribution token protocol), then
 * repeat {@code /v2/} with it. The token is used once and never leaves this class.
 */
public final class TokenProbe implements Hop<TokenProbe.Challenged, Evidence.Token> {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final long timeoutMillis;
    private final TokenCache cache;

    /** @param cache where tokens are kept between probes, or null to fetch one every time */
    public TokenProbe(long timeoutMillis, TokenCache cache) {
        this.timeoutMillis = timeoutMillis;
        this.cache = cache;
    }

    /**
     * The token hop, bounded as a whole at twice the phase timeout: it may open its own connection to the realm
     * (DNS, TCP, TLS, GET) and then repeat {@code /v2/}, and however the realm misbehaves the phase ends in time.
     */
    @Override
    public Phase phase() {
        return Phase.TOKEN;
    }

    /** The anonymous token for the registry's Bearer challenge, then {@code GET /v2/} with it. */
    @Override
    public CompletableFuture<PhaseResult<Evidence.Token>> run(Challenged input, ProbeContext ctx) {
        return fetch(input.challenge(), input.on().connection(), ctx.target(), input.on().where(), ctx.dialer());
    }

    /** The registry's challenge, on the connection that got it. */
    record Challenged(AuthChallenge challenge, RegistryProbe.OnConnection on) {
    }

    private CompletableFuture<PhaseResult<Evidence.Token>> fetch(AuthChallenge challenge, HttpConnection registry,
                                                                 Target target, String address, Dialer dialer) {
        PhaseClock start = PhaseClock.start(dialer);
        long budget = 2 * timeoutMillis;
        String shown = RegistryProbe.safe(challenge.param("realm"));
        CompletableFuture<PhaseResult<Evidence.Token>> bounded = new CompletableFuture<>();
        Deadlines.bound(bounded, budget, dialer.pace(), () ->
                PhaseResult.failed(Phase.TOKEN, start.nanos(), Reason.AUTH_TOKEN_FAILED, "token realm " + shown
                        + ": no token and authorized /v2/ answer within " + budget + "ms",
                        new Evidence.Token(shown, null, null, null)));
        unbounded(start, challenge, registry, target, address, dialer).whenComplete((r, e) -> {
            if (e == null) {
                bounded.complete(r);
            } else {
                Diagnosis d = unwrap(e, shown, "token request");
                bounded.complete(PhaseResult.failed(Phase.TOKEN, start.nanos(), Reason.AUTH_TOKEN_FAILED, "token realm "
                        + shown + ": " + d.summary(), new Evidence.Token(shown, null, null, null)));
            }
        });
        return bounded;
    }

    private CompletableFuture<PhaseResult<Evidence.Token>> unbounded(PhaseClock start, AuthChallenge challenge,
                                                                     HttpConnection registry, Target target,
                                                                     String address, Dialer dialer) {
        String realmText = challenge.param("realm");
        URI realm;
        try {
            realm = new URI(realmText);
        } catch (URISyntaxException e) {
            return done(PhaseResult.failed(Phase.TOKEN, start.nanos(), Reason.AUTH_TOKEN_FAILED,
                    "the challenge's realm '" + Redaction.snippet(realmText, 120) + "' is not a URL",
                    new Evidence.Token(Redaction.snippet(realmText, 200), null, null, null)));
        }
        String shownRealm = Redaction.snippet(realm.toString(), 200);
        if (!"https".equalsIgnoreCase(realm.getScheme()) || realm.getHost() == null) {
            return done(PhaseResult.failed(Phase.TOKEN, start.nanos(), Reason.AUTH_TOKEN_FAILED,
                    "the token realm " + shownRealm + " is not an https URL; pullpath does not send token "
                            + "requests in clear text", new Evidence.Token(shownRealm, null, null, null)));
        }
        TokenCache.Key key = new TokenCache.Key(realm.toString(), challenge.param("service"),
                challenge.param("scope"));
        TokenCache.Cached cached = cache == null ? null : cache.get(key);
        if (cached != null) {
            String detail = "cached anonymous token for " + shownRealm + " (expires in " + cached.remainingSeconds()
                    + "s)";
            return retryWithToken(registry, target, dialer, cached.token())
                    .handle((retry, error) -> new Retried(retry, error))
                    .thenCompose(r -> {
                        if (r.response != null && (r.response.status() == 401 || r.response.status() == 403)) {
                            // The registry no longer honours it: drop it and ask the realm, once.
                            cache.invalidate(key);
                            return fresh(start, challenge, realm, shownRealm, key, registry, target, address, dialer);
                        }
                        return done(judgeRetry(start, r, address, shownRealm, "cached", null, detail));
                    });
        }
        return fresh(start, challenge, realm, shownRealm, key, registry, target, address, dialer);
    }

    private record Retried(BoundedResponse response, Throwable error) {
    }

    private CompletableFuture<PhaseResult<Evidence.Token>> fresh(PhaseClock start, AuthChallenge challenge, URI realm,
                                                                 String shownRealm, TokenCache.Key key, HttpConnection registry,
                                                                 Target target, String address, Dialer dialer) {
        int realmPort = realm.getPort() < 0 ? Target.HTTPS_PORT : realm.getPort();
        return RealmToken.fetch(challenge, null, registry, target, dialer, timeoutMillis)
                .thenApply(RealmToken.Result::answer)
                .thenCompose(response -> {
                    String tokenStatus = response.statusLine();
                    Diagnosis refused = judgeTokenResponse(response, shownRealm);
                    if (refused != null) {
                        return done(PhaseResult.failed(Phase.TOKEN, start.nanos(), refused.reason(), refused.summary(),
                                new Evidence.Token(shownRealm, tokenStatus, null, null)));
                    }
                    JsonNode body = parse(response);
                    String token = text(body, "token", text(body, "access_token", null));
                    Long expiresIn = body.path("expires_in").isNumber() ? body.path("expires_in").asLong() : null;
                    if (cache != null) {
                        cache.put(key, token, expiresIn);
                    }
                    String detail = "anonymous token from " + shownRealm + " (" + tokenStatus
                            + (expiresIn == null ? "" : ", expires in " + expiresIn + "s") + ")";
                    return retryWithToken(registry, target, dialer, token).handle((retry, error) ->
                            judgeRetry(start, new Retried(retry, error), address, shownRealm, tokenStatus, expiresIn,
                                    detail));
                })
                .exceptionally(error -> {
                    Diagnosis d = unwrap(error, realm.getHost() + ":" + realmPort, "GET " + realm.getRawPath());
                    Reason reason = d.reason() == Reason.REGISTRY_RATE_LIMITED || d.reason() == Reason.REGISTRY_SERVER_ERROR
                            ? d.reason() : Reason.AUTH_TOKEN_FAILED;
                    return PhaseResult.failed(Phase.TOKEN, start.nanos(), reason, "token realm " + shownRealm + ": "
                            + d.summary(), new Evidence.Token(shownRealm, null, null, null));
                });
    }

    /** Judges {@code /v2/} as answered with the token. */
    private PhaseResult<Evidence.Token> judgeRetry(PhaseClock start, Retried retried, String address, String shownRealm,
                                                   String tokenStatus, Long expiresIn, String detail) {
        if (retried.error != null) {
            Diagnosis d = unwrap(retried.error, address, "GET /v2/ with the anonymous token");
            return PhaseResult.failed(Phase.TOKEN, start.nanos(), d.reason(), d.summary(),
                    new Evidence.Token(shownRealm, tokenStatus, expiresIn, null));
        }
        BoundedResponse retry = retried.response;
        Diagnosis d = RegistryProbe.classify(retry, true);
        Evidence.Token evidence = new Evidence.Token(shownRealm, tokenStatus, expiresIn, retry.statusLine());
        String full = detail + "; GET /v2/ with it -> " + retry.statusLine();
        return d.ok() ? PhaseResult.ok(Phase.TOKEN, start.nanos(), full, evidence)
                : PhaseResult.failed(Phase.TOKEN, start.nanos(), d.reason(), address + ": " + full + ": " + d.summary(),
                evidence);
    }

    private CompletableFuture<BoundedResponse> retryWithToken(HttpConnection registry, Target target, Dialer dialer,
                                                              String token) {
        Map<String, String> auth = Map.of("Authorization", "Bearer " + token);
        return dialer.sendOnce(registry, target.host(), target.port(), conn -> conn.get(conn.api(RegistryProbe.V2),
                auth, timeoutMillis));
    }

    /** Null when the realm issued a token; otherwise why not. */
    private static Diagnosis judgeTokenResponse(BoundedResponse r, String realm) {
        if (r.status() == 429) {
            return new Diagnosis(Reason.REGISTRY_RATE_LIMITED, "token realm " + realm + ": 429 Too Many Requests");
        }
        if (r.status() >= 500) {
            return new Diagnosis(Reason.REGISTRY_SERVER_ERROR, "token realm " + realm + ": " + r.statusLine());
        }
        if (r.status() != 200) {
            return new Diagnosis(Reason.AUTH_TOKEN_FAILED, "token realm " + realm + " answered " + r.statusLine()
                    + bodyNote(r));
        }
        JsonNode body = parse(r);
        if (text(body, "token", text(body, "access_token", null)) == null) {
            return new Diagnosis(Reason.AUTH_TOKEN_FAILED, "token realm " + realm
                    + " answered 200 without a token" + bodyNote(r));
        }
        return null;
    }

    private static String bodyNote(BoundedResponse r) {
        String s = RegistryProbe.snippet(r);
        return s == null ? "" : ": " + s;
    }

    private static JsonNode parse(BoundedResponse r) {
        if (r.truncated()) {
            return JSON.missingNode();
        }
        try {
            JsonNode node = JSON.readTree(r.body());
            return node == null ? JSON.missingNode() : node;
        } catch (IOException e) {
            return JSON.missingNode();
        }
    }

    private static String text(JsonNode node, String field, String fallback) {
        JsonNode v = node.path(field);
        return v.isTextual() && !v.asText().isEmpty() ? v.asText() : fallback;
    }

    private Diagnosis unwrap(Throwable error, String where, String what) {
        return RegistryProbe.failedExchange(error, where, what, timeoutMillis);
    }

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }
}
