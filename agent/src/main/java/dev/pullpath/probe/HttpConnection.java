package dev.pullpath.probe;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * HTTP over an established TLS channel, in whichever protocol ALPN chose: HTTP/1.1 with keep-alive, or HTTP/2 with
 * one stream per request. Requests are sequential; each has its own timeout and body bound.
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
    private ResponseCollector h1Collector;
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

    private HttpConnection(Channel channel, String protocol, String authority, String userAgent, int maxBody,
                           HostSettings host) {
        this.channel = channel;
        this.protocol = protocol;
        this.authority = authority;
        this.userAgent = userAgent;
        this.maxBody = maxBody;
        this.host = host;
    }

    /** Puts the HTTP stages on a channel whose TLS handshake just completed, on its event loop, in that turn. */
    static HttpConnection open(Channel channel, String alpn, String authority, String userAgent, int maxBody) {
        return open(channel, alpn, authority, userAgent, maxBody, HostSettings.REGISTRY);
    }

    /** ... for one host of a containerd pull path, with its API root and headers. */
    static HttpConnection open(Channel channel, String alpn, String authority, String userAgent, int maxBody,
                               HostSettings host) {
        boolean h2 = "h2".equals(alpn);
        if (!channel.isActive() || channel.pipeline().get(ExceptionSink.NAME) == null) {
            // The server closed right after the handshake: requests fail as on any closed connection.
            HttpConnection closed = new HttpConnection(channel, h2 ? "h2" : "http/1.1", authority, userAgent, maxBody,
                    host);
            closed.reusable = false;
            closed.h1Collector = new ResponseCollector(closed.protocol, maxBody);
            return closed;
        }
        HttpConnection c = new HttpConnection(channel, h2 ? "h2" : "http/1.1", authority, userAgent, maxBody, host);
        if (h2) {
            channel.pipeline().addBefore(ExceptionSink.NAME, "h2-frames", Http2FrameCodecBuilder.forClient()
                    .initialSettings(Http2Settings.defaultSettings().maxHeaderListSize(MAX_HEADER_BYTES))
                    .validateHeaders(true)
                    .build());
            channel.pipeline().addBefore(ExceptionSink.NAME, "h2-mux", new Http2MultiplexHandler(new IgnorePushes()));
        } else {
            c.h1Collector = new ResponseCollector(c.protocol, maxBody);
            channel.pipeline().addBefore(ExceptionSink.NAME, "http", new HttpClientCodec(MAX_INITIAL_LINE,
                    MAX_HEADER_BYTES, 8192));
            channel.pipeline().addBefore(ExceptionSink.NAME, "collector", c.h1Collector);
        }
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
            if (!channel.isActive()) {
                request.release();
                response.completeExceptionally(new java.nio.channels.ClosedChannelException());
                return;
            }
            if (h1Collector != null) {
                h1Collector.expect(response, bodyBound);
                send(channel, request, response, timeoutMillis, channel);
            } else {
                new Http2StreamChannelBootstrap(channel).open().addListener((Future<Http2StreamChannel> opened) -> {
                    if (!opened.isSuccess()) {
                        request.release();
                        response.completeExceptionally(opened.cause());
                        return;
                    }
                    Http2StreamChannel stream = opened.getNow();
                    ResponseCollector collector = new ResponseCollector(protocol, bodyBound);
                    collector.expect(response);
                    stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), collector);
                    response.whenComplete((r, e) -> stream.close());
                    send(stream, request, response, timeoutMillis, channel);
                });
            }
        });
        return result;
    }

    private static void send(Channel target, FullHttpRequest request, CompletableFuture<BoundedResponse> response,
                             long timeoutMillis, Channel connection) {
        ScheduledFuture<?> timer = target.eventLoop().schedule(() -> {
            if (response.completeExceptionally(new TimeoutException("no complete response within " + timeoutMillis
                    + "ms"))) {
                connection.close();
            }
        }, timeoutMillis, TimeUnit.MILLISECONDS);
        response.whenComplete((r, e) -> timer.cancel(false));
        target.writeAndFlush(request).addListener(written -> {
            if (!written.isSuccess()) {
                response.completeExceptionally(written.cause());
            }
        });
    }

    void close() {
        channel.close();
    }

    /** Registries do not push; a pushed stream is dropped. */
    @ChannelHandler.Sharable
    private static final class IgnorePushes extends ChannelInitializer<Channel> {
        @Override
        protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelActive(ChannelHandlerContext ctx) {
                    ctx.close();
                }
            });
        }
    }
}
