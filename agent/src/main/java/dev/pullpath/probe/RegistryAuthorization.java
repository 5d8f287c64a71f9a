package dev.pullpath.probe;

import dev.pullpath.config.Target;
import io.netty.handler.codec.http.HttpMethod;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A pulling client's requests for one repository, authorized as containerd's docker authorizer does: the request
 * goes out with what the last challenge settled, and on a 401 the challenge decides once: Bearer → a token for
 * {@code repository:REPO:pull} from its realm (with the login as Basic, or anonymously); Basic → the login's Basic
 * header, sent to this registry only; no challenge, or Basic without a login → the 401 is the answer. The settled
 * header is kept, so the manifest GET and the blob GET after the HEAD ask the realm no second time.
 *
 * <p>The header is for this registry's own requests: a redirect to another host never carries it (see
 * {@link LayerProbe}).
 */
final class RegistryAuthorization {
    private final String repository;
    private final String login;
    private final RegistryConnection connection;
    private final Target target;
    private final Dialer dialer;
    private final long timeoutMillis;
    private volatile String header;
    private volatile String scheme = "anonymous";

    /**
     * @param login a stored login as its Basic value, or null for anonymous access
     */
    RegistryAuthorization(String repository, String login, HttpConnection registry, Target target, Dialer dialer,
                          long timeoutMillis) {
        this.repository = repository;
        this.login = login;
        this.connection = new RegistryConnection(registry, target, dialer);
        this.target = target;
        this.dialer = dialer;
        this.timeoutMillis = timeoutMillis;
    }

    /** How the requests are authorized so far: {@code anonymous}, {@code Bearer} or {@code Basic}. Never a value. */
    String scheme() {
        return scheme;
    }

    /** For a detail line: " (Bearer token)", " (Basic)", or nothing while anonymous without a token. */
    String described() {
        return switch (scheme) {
            case "Bearer" -> " (Bearer token for " + pullScope() + ")";
            case "Basic" -> " (Basic, on the registry's Basic challenge)";
            default -> "";
        };
    }

    boolean withLogin() {
        return login != null;
    }

    /** The Authorization value settled by the challenge, or null; for this registry's requests only. */
    String header() {
        return header;
    }

    /** The pull scope containerd asks the realm for, whatever the challenge names. */
    String pullScope() {
        return "repository:" + repository + ":pull";
    }

    /**
     * {@code method} of {@code v2Path} (under this host's API root) with {@code headers}: sent with the settled
     * authorization, and on a 401 authorized by its challenge and sent once more. A realm that issues no token
     * answers for it (its refusal is what the client meets).
     */
    CompletableFuture<BoundedResponse> request(HttpMethod method, String v2Path, Map<String, String> headers) {
        return request(method, v2Path, headers, -1);
    }

    /** ... reading at most {@code bodyBound} bytes of the body (-1: the connection's bound). */
    CompletableFuture<BoundedResponse> request(HttpMethod method, String v2Path, Map<String, String> headers,
                                               int bodyBound) {
        return send(method, v2Path, headers, bodyBound, true).thenCompose(first -> {
            if (first.status() != 401) {
                return CompletableFuture.completedFuture(first);
            }
            List<AuthChallenge> challenges = AuthChallenge.parse(first.all("www-authenticate"));
            AuthChallenge bearer = challenges.stream().filter(c -> c.is("Bearer") && c.param("realm") != null)
                    .findFirst().orElse(null);
            boolean basic = challenges.stream().anyMatch(c -> c.is("Basic"));
            if (bearer != null) {
                return connection.get().thenCompose(c -> RealmToken.fetch(bearer, pullScope(), login, c, target, dialer,
                        timeoutMillis)).thenCompose(token -> {
                            if (token.token() == null) {
                                return CompletableFuture.completedFuture(token.answer());
                            }
                            header = "Bearer " + token.token();
                            scheme = "Bearer";
                            return send(method, v2Path, headers, bodyBound, true);
                        });
            }
            if (basic && login != null && header == null) {
                header = login;
                scheme = "Basic";
                return send(method, v2Path, headers, bodyBound, true);
            }
            return CompletableFuture.completedFuture(first);
        });
    }

    /**
     * A URL on this registry's host taken as it is (a redirect's Location, not an API path), with the settled
     * authorization and no new challenge answered: what Go's client does with a redirect to the same host.
     */
    CompletableFuture<BoundedResponse> requestRaw(HttpMethod method, String pathAndQuery, Map<String, String> headers,
                                                  int bodyBound) {
        return send(method, pathAndQuery, headers, bodyBound, false);
    }

    private CompletableFuture<BoundedResponse> send(HttpMethod method, String path, Map<String, String> headers,
                                                    int bodyBound, boolean api) {
        Map<String, String> all = new HashMap<>(headers);
        String h = header;
        if (h != null) {
            all.put("Authorization", h);
        }
        return dialer.send(connection::get, c -> bodyBound < 0
                ? c.request(method, api ? c.api(path) : path, all, timeoutMillis)
                : c.request(method, api ? c.api(path) : path, all, timeoutMillis, bodyBound));
    }

    /** Closes a connection this dialed itself; the registry's own stays with its owner. */
    void close() {
        connection.close();
    }
}
