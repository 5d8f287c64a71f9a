package dev.pullpath.probe;

import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Evidence;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.Redaction;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;

/**
 * The registry hop: {@code GET /v2/}, the distribution API's version check, which every pull starts with. A
 * registry answers 200, or 401 with a challenge; anything else says who else answered.
 */
public final class RegistryProbe implements Hop<RegistryProbe.OnConnection, RegistryProbe.Check> {
    static final String V2 = "/v2/";
    private static final int SNIPPET = 200;

    private final long timeoutMillis;

    /** What {@code /v2/} said; {@code bearer} is set when an anonymous token is the next step. */
    public record Check(Evidence.Http evidence, AuthChallenge bearer) {
    }

    public RegistryProbe(long timeoutMillis) {
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public Phase phase() {
        return Phase.HTTP;
    }

    /** {@code GET /v2/} on the connection the TLS hop opened; {@code where} names the address in the evidence. */
    @Override
    public CompletableFuture<PhaseResult<Check>> run(OnConnection on, ProbeContext ctx) {
        return check(on.connection(), on.where(), ctx.dialer());
    }

    /** An HTTP connection of the path and the address it goes to, as the registry hops' evidence names it. */
    record OnConnection(HttpConnection connection, String where) {
    }

    private CompletableFuture<PhaseResult<Check>> check(HttpConnection connection, String address, Dialer dialer) {
        PhaseClock start = PhaseClock.start(dialer);
        return dialer.pace().turn().thenCompose(v -> connection.get(connection.api(V2), Map.of(), timeoutMillis))
                .handle((response, error) -> {
            if (error != null) {
                Diagnosis d = failedExchange(error, address, "GET /v2/", timeoutMillis);
                return PhaseResult.failed(Phase.HTTP, start.nanos(), d.reason(), d.summary(),
                        new Check(new Evidence.Http(address, connection.protocol(), null, null, null, null), null));
            }
            List<AuthChallenge> challenges = AuthChallenge.parse(response.all("www-authenticate"));
            AuthChallenge bearer = challenges.stream().filter(c -> c.is("Bearer") && c.param("realm") != null)
                    .findFirst().orElse(null);
            AuthChallenge basic = challenges.stream().filter(c -> c.is("Basic")).findFirst().orElse(null);
            AuthChallenge shown = bearer != null ? bearer : basic;
            Evidence.Http evidence = new Evidence.Http(address, response.protocol(), response.statusLine(),
                    response.evidenceHeaders(), snippet(response), shown == null ? null
                    : new Evidence.Challenge(Redaction.snippet(shown.scheme(), 40), safe(shown.param("realm")),
                    safe(shown.param("service")), safe(shown.param("scope"))));
            String line = "GET /v2/ -> " + response.statusLine() + " (" + response.protocol() + ")";
            if (response.status() == 401 && bearer != null) {
                return PhaseResult.ok(Phase.HTTP, start.nanos(), line + ", Bearer challenge, realm " + safe(bearer.param("realm"))
                        + serviceText(bearer), new Check(evidence, bearer));
            }
            if (response.status() == 401 && basic != null) {
                return PhaseResult.ok(Phase.HTTP, start.nanos(), line + ", Basic challenge" + (basic.param("realm") == null ? ""
                        : ", realm " + safe(basic.param("realm"))) + ": the registry wants credentials",
                        new Check(evidence, null));
            }
            Diagnosis d = classify(response, false);
            return d.ok() ? PhaseResult.ok(Phase.HTTP, start.nanos(), line + ", " + d.summary(), new Check(evidence, null))
                    : PhaseResult.failed(Phase.HTTP, start.nanos(), d.reason(), address + ": " + line + ": " + d.summary(),
                    new Check(evidence, null));
        });
    }

    /**
     * Judges a {@code /v2/} answer other than a usable challenge. {@code authorized}: the request carried the
     * anonymous token, so a refusal means the registry denies anonymous access.
     */
    static Diagnosis classify(BoundedResponse r, boolean authorized) {
        int status = r.status();
        if (status == 200) {
            String api = r.header("docker-distribution-api-version");
            if (api != null && api.startsWith("registry/2")) {
                return new Diagnosis(Reason.OK, "registry API " + api);
            }
            if (r.contentType().contains("json")) {
                return new Diagnosis(Reason.OK, "registry answered JSON");
            }
            return new Diagnosis(Reason.REGISTRY_UNEXPECTED_RESPONSE, "200 with " + describeBody(r)
                    + " and no Docker-Distribution-API-Version header: not a registry");
        }
        if (status == 429) {
            String retry = r.header("retry-after");
            return new Diagnosis(Reason.REGISTRY_RATE_LIMITED, "429 Too Many Requests"
                    + (retry == null ? "" : ", Retry-After " + Redaction.snippet(retry, 40)));
        }
        if (status >= 500) {
            return new Diagnosis(Reason.REGISTRY_SERVER_ERROR, "server error " + r.statusLine() + bodyNote(r));
        }
        if (status == 404) {
            return new Diagnosis(Reason.REGISTRY_NOT_FOUND, "404 for the registry API" + bodyNote(r));
        }
        if (authorized && (status == 401 || status == 403)) {
            return new Diagnosis(Reason.AUTH_ANONYMOUS_DENIED, r.statusLine()
                    + " with the registry's own anonymous token" + bodyNote(r));
        }
        if (status >= 300 && status < 400) {
            String location = r.header("location");
            return new Diagnosis(Reason.REGISTRY_UNEXPECTED_RESPONSE, "redirect " + r.statusLine()
                    + (location == null ? "" : " to " + Redaction.snippet(location, 120)) + ": a captive portal or "
                    + "web filter answers instead of the registry");
        }
        if (status == 401) {
            return new Diagnosis(Reason.REGISTRY_UNEXPECTED_RESPONSE,
                    "401 without a Bearer or Basic challenge" + bodyNote(r));
        }
        return new Diagnosis(Reason.REGISTRY_UNEXPECTED_RESPONSE, "unexpected " + r.statusLine() + bodyNote(r));
    }

    /**
     * A request that got no usable response: timeout, reset, or bytes that are not HTTP; or a connection to another
     * host of the path (a token realm) that failed at some hop, which then names that hop.
     */
    static Diagnosis failedExchange(Throwable error, String address, String what, long timeoutMillis) {
        Throwable t = Futures.cause(error);
        if (t instanceof Dialer.DialException dial) {
            return dial.diagnosis();
        }
        if (t instanceof TimeoutException) {
            return new Diagnosis(Reason.REGISTRY_UNEXPECTED_RESPONSE, address + ": " + what
                    + ": no complete response within " + timeoutMillis + "ms");
        }
        if (t instanceof ResponseCollector.MalformedResponseException) {
            return new Diagnosis(Reason.REGISTRY_UNEXPECTED_RESPONSE, address + ": " + what + ": " + t.getMessage());
        }
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return new Diagnosis(Reason.REGISTRY_UNEXPECTED_RESPONSE, address + ": " + what
                + ": connection ended without a response (" + Redaction.snippet(message, 120) + ")");
    }

    private static String serviceText(AuthChallenge c) {
        return c.param("service") == null ? "" : ", service " + safe(c.param("service"));
    }

    /** Challenge parameters come from the network: redacted, one line, bounded, before they are evidence. */
    static String safe(String value) {
        return value == null ? null : Redaction.snippet(value, 200);
    }

    static String snippet(BoundedResponse r) {
        if (r.body().length == 0) {
            return null;
        }
        return Redaction.snippet(r.bodyText(), SNIPPET) + (r.truncated() ? " [body truncated]" : "");
    }

    private static String describeBody(BoundedResponse r) {
        String ct = r.contentType().isEmpty() ? "no content type" : r.contentType();
        String text = r.bodyText();
        int t = text.toLowerCase(java.util.Locale.ROOT).indexOf("<title>");
        if (t >= 0) {
            int end = text.toLowerCase(java.util.Locale.ROOT).indexOf("</title>", t);
            if (end > t) {
                return ct + " page titled '" + Redaction.snippet(text.substring(t + 7, end), 80) + "'";
            }
        }
        return ct;
    }

    static String bodyNote(BoundedResponse r) {
        String s = snippet(r);
        return s == null ? "" : ": " + Redaction.snippet(s, 120);
    }
}
