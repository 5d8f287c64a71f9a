package dev.pullpath.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Base64;
import java.util.UUID;

/**
 * The token service of Distribution's {@code auth: token} (the Docker token protocol), as public.ecr.aws and
 * Docker Hub run one: {@code GET /token?service=..&scope=repository:NAME:pull} without credentials gets an
 * anonymous pull token; with a Basic login it must be the right one, else 403 as ECR answers an expired login (the
 * case the Helm 403 came from). POST (OAuth's password grant) answers 404, as GCR's does, so clients fall back to
 * GET. Tokens are ES256 JWTs with the signer's certificate in {@code x5c}, which Distribution checks against its
 * {@code rootcertbundle}.
 */
public final class TokenServer implements AutoCloseable {
    private final HttpServer server;
    private final X509Certificate signer;
    private final PrivateKey key;
    private final String service;
    private final String login;

    public TokenServer(InetSocketAddress bind, X509Certificate signer, PrivateKey key, String service, String user,
                       String password) throws IOException {
        this.signer = signer;
        this.key = key;
        this.service = service;
        this.login = "Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
        this.server = HttpServer.create(bind, 16);
        server.createContext("/token", this::answer);
        server.start();
    }

    private void answer(HttpExchange x) throws IOException {
        try (x) {
            if (!x.getRequestMethod().equals("GET")) {
                send(x, 404, "{\"errors\":[{\"code\":\"UNSUPPORTED\",\"message\":\"use GET\"}]}");
                return;
            }
            String authorization = x.getRequestHeaders().getFirst("Authorization");
            if (authorization != null && !authorization.equals(login)) {
                send(x, 403, "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"Your authorization token has expired. "
                        + "Reauthenticate and try again.\"}]}");
                return;
            }
            String scope = query(x.getRequestURI(), "scope");
            String access = "[]";
            if (scope != null && scope.startsWith("repository:") && scope.endsWith(":pull")) {
                String name = scope.substring("repository:".length(), scope.length() - ":pull".length());
                access = "[{\"type\":\"repository\",\"name\":\"" + name + "\",\"actions\":[\"pull\"]}]";
            }
            String token = jwt(access);
            send(x, 200, "{\"token\":\"" + token + "\",\"access_token\":\"" + token + "\",\"expires_in\":300}");
        } catch (Exception e) {
            send(x, 500, "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"" + e.getClass().getSimpleName() + "\"}]}");
        }
    }

    private String jwt(String access) throws Exception {
        long now = Instant.now().getEpochSecond();
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = "{\"typ\":\"JWT\",\"alg\":\"ES256\",\"x5c\":[\""
                + Base64.getEncoder().encodeToString(signer.getEncoded()) + "\"]}";
        String claims = "{\"iss\":\"lab-token-issuer\",\"sub\":\"\",\"aud\":\"" + service + "\",\"exp\":" + (now + 300)
                + ",\"nbf\":" + (now - 10) + ",\"iat\":" + now + ",\"jti\":\"" + UUID.randomUUID() + "\",\"access\":"
                + access + "}";
        String signed = b64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        Signature s = Signature.getInstance("SHA256withECDSAinP1363Format"); // JOSE's R || S, not DER
        s.initSign(key);
        s.update(signed.getBytes(StandardCharsets.US_ASCII));
        return signed + "." + b64.encodeToString(s.sign());
    }

    private static String query(URI uri, String name) {
        String raw = uri.getRawQuery();
        if (raw == null) {
            return null;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                return java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private static void send(HttpExchange x, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", "application/json");
        x.sendResponseHeaders(status, bytes.length);
        x.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
