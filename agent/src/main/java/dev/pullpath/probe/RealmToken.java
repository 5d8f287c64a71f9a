package dev.pullpath.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pullpath.config.Target;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A token from a Bearer challenge's realm, for a given scope, anonymously or with a stored login (Basic): the
 * distribution token protocol as a pulling client speaks it. The token is handed back, never shown.
 */
final class RealmToken {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The realm's answer, and the token in it when there is one. */
    record Result(String token, BoundedResponse answer) {
    }

    private RealmToken() {
    }

    /**
     * {@code service=...&scope=...}, each only when named: the challenge's scope and, for a request about one
     * repository, its pull scope too (containerd merges the scopes of the request with the challenge's, sorted,
     * one {@code scope} parameter each).
     */
    private static String query(AuthChallenge c, String pullScope) {
        StringBuilder q = new StringBuilder();
        if (c.param("service") != null) {
            q.append("service=").append(URLEncoder.encode(c.param("service"), StandardCharsets.UTF_8));
        }
        java.util.SortedSet<String> scopes = new java.util.TreeSet<>();
        if (c.param("scope") != null) {
            scopes.add(c.param("scope"));
        }
        if (pullScope != null) {
            scopes.add(pullScope);
        }
        for (String scope : scopes) {
            q.append(q.length() == 0 ? "" : "&").append("scope=")
                    .append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
        }
        return q.toString();
    }

    static CompletableFuture<Result> fetch(AuthChallenge bearer, String authorization, HttpConnection registry,
                                           Target target, Dialer dialer, long timeoutMillis) {
        return fetch(bearer, null, authorization, registry, target, dialer, timeoutMillis);
    }

    /** ... with {@code pullScope} ({@code repository:REPO:pull}) asked for beside the challenge's scope. */
    static CompletableFuture<Result> fetch(AuthChallenge bearer, String pullScope, String authorization,
                                           HttpConnection registry, Target target, Dialer dialer,
                                           long timeoutMillis) {
        URI realm;
        try {
            realm = URI.create(bearer.param("realm"));
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(new IllegalStateException("the token realm is not a URL"));
        }
        if (!"https".equalsIgnoreCase(realm.getScheme()) || realm.getHost() == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("the token realm is not https"));
        }
        String host = realm.getHost().toLowerCase(Locale.ROOT).replaceAll("^\\[|]$", "");
        int port = realm.getPort() < 0 ? Target.HTTPS_PORT : realm.getPort();
        String path = (realm.getRawPath() == null || realm.getRawPath().isEmpty() ? "/" : realm.getRawPath())
                + (realm.getRawQuery() == null ? "?" : "?" + realm.getRawQuery() + "&") + query(bearer, pullScope);
        Map<String, String> headers = authorization == null ? Map.of() : Map.of("Authorization", authorization);
        // The registry's connection only for a realm on the registry's own host and port.
        boolean registryHost = host.equals(target.host()) && port == target.port();
        return dialer.sendOnce(registryHost ? registry : null, host, port, conn -> conn.get(path, headers,
                timeoutMillis)).thenApply(answer -> {
                    if (answer.status() == 200 && !answer.truncated()) {
                        try {
                            JsonNode body = JSON.readTree(answer.body());
                            JsonNode t = body == null ? null : body.has("token") ? body.get("token")
                                    : body.get("access_token");
                            if (t != null && t.isTextual() && !t.asText().isEmpty()) {
                                return new Result(t.asText(), answer);
                            }
                        } catch (java.io.IOException e) {
                            // not a token: the answer itself is the refusal
                        }
                    }
                    return new Result(null, answer);
                });
    }
}
