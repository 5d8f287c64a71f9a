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

    /** Either a token, or the realm's answer refusing one. */
    record Result(String token, BoundedResponse refusal) {
    }

    private RealmToken() {
    }

    static CompletableFuture<Result> fetch(AuthChallenge bearer, String authorization, HttpConnection registry,
                                           Target target, Dialer dialer, long timeoutMillis) {
        URI realm;
        try {
            realm = URI.create(bearer.param("realm"));
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(new IllegalStateException("the token realm is not a URL"));
        }
        if (!"https".equalsIgnoreCase(realm.getScheme()) || realm.getHost() == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("the token realm is not https"));
        }
        String host = realm.getHost().toLowerCase(Locale.ROOT);
        int port = realm.getPort() < 0 ? Target.HTTPS_PORT : realm.getPort();
        StringBuilder q = new StringBuilder(realm.getRawPath() == null || realm.getRawPath().isEmpty() ? "/"
                : realm.getRawPath()).append(realm.getRawQuery() == null ? "?" : "?" + realm.getRawQuery() + "&");
        if (bearer.param("service") != null) {
            q.append("service=").append(URLEncoder.encode(bearer.param("service"), StandardCharsets.UTF_8));
        }
        if (bearer.param("scope") != null) {
            q.append("&scope=").append(URLEncoder.encode(bearer.param("scope"), StandardCharsets.UTF_8));
        }
        boolean same = host.equals(target.host()) && port == target.port() && registry.isOpen();
        CompletableFuture<HttpConnection> realmConn = same ? CompletableFuture.completedFuture(registry)
                : dialer.dial(host, port);
        Map<String, String> headers = authorization == null ? Map.of() : Map.of("Authorization", authorization);
        return realmConn.thenCompose(conn -> conn.get(q.toString(), headers, timeoutMillis)
                .whenComplete((r, e) -> {
                    if (conn != registry) {
                        conn.close();
                    }
                })).thenApply(answer -> {
                    if (answer.status() == 200 && !answer.truncated()) {
                        try {
                            JsonNode body = JSON.readTree(answer.body());
                            JsonNode t = body == null ? null : body.has("token") ? body.get("token")
                                    : body.get("access_token");
                            if (t != null && t.isTextual() && !t.asText().isEmpty()) {
                                return new Result(t.asText(), null);
                            }
                        } catch (java.io.IOException e) {
                            // not a token: the answer itself is the refusal
                        }
                    }
                    return new Result(null, answer);
                });
    }
}
