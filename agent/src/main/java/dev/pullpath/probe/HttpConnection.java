package dev.pullpath.probe;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * HTTP/1.1 with keep-alive over an established TLS channel, as containerd speaks to a registry (it offers no ALPN,
 * so no HTTP/2: see {@link TlsEngines}). Requests are sequential; each has its own timeout and body bound.
 */
final class HttpConnection {
    static final int MAX_INITIAL_LINE = 4096;
    static final int MAX_HEADER_BYTES = 16 * 1024;

    private final Channel channel;
    private final String protocol;
    private final String authority;
    private final String userAgent;
    private final int maxBody;
    private final HostSettings host;
    private final ResponseCollector collector;
    private volatile boolean reusable = true;

    /**
     * How containerd talks to one host of its pull path (hosts.toml): the distribution API under {@code apiRoot},
     * the configured headers on every request, and on a mirror the {@code ns} query naming the upstream registry.
     */
    record HostSettings(String apiRoot, Map<String, String> headers, String namespace) {
        static final HostSettings REGISTRY = new HostSettings("/v2", Map.of(), null);

        /** Header names only: their values may be credentials. */
        @Override
        public String toString() {
            return "HostSettings[apiRoot=" + apiRoot + ", headers=" + headers.keySet() + ", namespace=" + namespace
                    + "]";
        }

        /** {@code /v2/...} under this host's API root, with {@code ns} on every request but the version check. */
        String path(String pathAndQuery) {
            if (!pathAndQuery.startsWith("/v2/") || (apiRoot.equals("/v2") && namespace == null)) {
                return pathAndQuery;
            }
            String mapped = apiRoot + pathAndQuery.substring(3);
            if (namespace == null || pathAndQuery.equals("/v2/")) {
                return mapped;
            }
            return mapped + (mapped.contains("?") ? "&" : "?") + "ns="
                    + java.net.URLEncoder.encode(namespace, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private HttpConnection(Channel channel, String authority, String userAgent, int maxBody, HostSettings host) {
        this.channel = channel;
        this.protocol = "http/1.1";
        this.authority = authority;
        this.userAgent = userAgent;
        this.maxBody = maxBody;
        this.host = host;
        this.collector = new ResponseCollector(protocol, maxBody);
    }

    /**
     * Puts the HTTP stages on a channel whose TLS handshake just completed, on its event loop, in that turn, for one
     * host of the pull path with its API root and headers.
     */
    static HttpConnection open(Channel channel, String authority, String userAgent, int maxBody, HostSettings host) {
        HttpConnection c = new HttpConnection(channel, authority, userAgent, maxBody, host);
        if (!channel.isActive() || channel.pipeline().get(ExceptionSink.NAME) == null) {
            // The server closed right after the handshake: requests fail as on any closed connection.
            c.reusable = false;
            return c;
        }
        channel.pipeline().addBefore(ExceptionSink.NAME, "http", new HttpClientCodec(MAX_INITIAL_LINE,
                MAX_HEADER_BYTES, 8192));
        channel.pipeline().addBefore(ExceptionSink.NAME, "collector", c.collector);
        return c;
    }

    /** {@code host:port} as this connection's requests name it. */
    String authority() {
        return authority;
    }

    String protocol() {
        return protocol;
    }

    /**
     * A distribution API path ({@code /v2/...}) as this host serves it: under its API root, with {@code ns} on a
     * mirror. Only for the registry's own requests: a token realm's URL is requested exactly as challenged.
     */
    String api(String v2Path) {
        return host.path(v2Path);
    }

    /** True while another request may go on this connection (open, and the server did not say close). */
    boolean isOpen() {
        return reusable && channel.isActive();
    }

    Channel channel() {
        return channel;
    }

    /** GET {@code pathAndQuery} with the given extra headers; completes with the response or its failure. */
    CompletableFuture<BoundedResponse> get(String pathAndQuery, Map<String, String> headers, long timeoutMillis) {
        return request(HttpMethod.GET, pathAndQuery, headers, timeoutMillis);
    }

    /** One request of {@code method} (GET or HEAD: a pull's requests carry no body). */
    CompletableFuture<BoundedResponse> request(HttpMethod method, String pathAndQuery, Map<String, String> headers,
                                               long timeoutMillis) {
        return request(method, pathAndQuery, headers, timeoutMillis, maxBody);
    }

    /** ... reading at most {@code bodyBound} bytes of this response's body (past it: truncated, connection closed). */
    CompletableFuture<BoundedResponse> request(HttpMethod method, String pathAndQuery, Map<String, String> headers,
                                               long timeoutMillis, int bodyBound) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, pathAndQuery);
        request.headers().set(HttpHeaderNames.HOST, authority);
        request.headers().set(HttpHeaderNames.USER_AGENT, userAgent);
        request.headers().set(HttpHeaderNames.ACCEPT, "application/json, */*;q=0.5");
        host.headers().forEach((k, v) -> request.headers().set(k, v));
        headers.forEach((k, v) -> request.headers().set(k, v));
        CompletableFuture<BoundedResponse> result = new CompletableFuture<>();
        CompletableFuture<BoundedResponse> response = new CompletableFuture<>();
        // Whether the connection may carry another request is settled before anyone sees the response.
        response.whenComplete((r, e) -> {
            if (e != null || !r.keepAlive()) {
                reusable = false;
            }
            if (e != null) {
                result.completeExceptionally(e);
            } else {
                result.complete(r);
            }
        });
        channel.eventLoop().execute(() -> {
            collector.expect(response, bodyBound);
            if (!channel.isActive()) {
                request.release();
                response.completeExceptionally(collector.beforeAnswer() ? new ReusedConnectionClosed("closed")
                        : new java.nio.channels.ClosedChannelException());
                return;
            }
            send(request, response, timeoutMillis);
        });
        return result;
    }

    private void send(FullHttpRequest request, CompletableFuture<BoundedResponse> response, long timeoutMillis) {
        ScheduledFuture<?> timer = channel.eventLoop().schedule(() -> {
            if (response.completeExceptionally(new TimeoutException("no complete response within " + timeoutMillis
                    + "ms"))) {
                channel.close();
            }
        }, timeoutMillis, TimeUnit.MILLISECONDS);
        response.whenComplete((r, e) -> timer.cancel(false));
        channel.writeAndFlush(request).addListener(written -> {
            if (!written.isSuccess()) {
                response.completeExceptionally(collector.beforeAnswer()
                        ? new ReusedConnectionClosed("failed the write: " + written.cause()) : written.cause());
            }
        });
    }

    void close() {
        channel.close();
    }

    /**
     * A keep-alive connection the server closed (or reset) before any byte of the answer to a request that was not
     * its first: the server's idle timeout crossed the request. A closed connection to whoever does not retry.
     */
    static final class ReusedConnectionClosed extends java.nio.channels.ClosedChannelException {
        private static final long serialVersionUID = 1L;
        private final String how;

        ReusedConnectionClosed(String how) {
            this.how = how;
        }

        @Override
        public String getMessage() {
            return "a reused connection " + how + " before any answer";
        }
    }

    /**
     * {@code send} once more, on a connection it picks anew, when its reused connection was closed before any
     * answer ({@link ReusedConnectionClosed}): Go's transport retries a GET or HEAD so (its shouldRetryRequest), and
     * so does the puller. A walk that waits between its requests (its pace) meets servers' idle timeouts; without
     * this, it would report a failure no pull meets. Once: the retry's connection is new, its failure stands.
     */
    static <T> CompletableFuture<T> retryingReused(java.util.function.Supplier<CompletableFuture<T>> send) {
        return send.get().exceptionallyCompose(e -> {
            return Futures.cause(e) instanceof ReusedConnectionClosed ? send.get() : CompletableFuture.failedFuture(e);
        });
    }
}
