package dev.pullpath.export;

import dev.pullpath.config.AgentConfig;
import dev.pullpath.config.ConfigException;
import dev.pullpath.config.Target;
import dev.pullpath.config.TargetConfig;
import dev.pullpath.config.TargetKind;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.probe.EventLoops;
import dev.pullpath.schedule.ProbeScheduler;
import dev.pullpath.schedule.StatusBoard;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContentCompressor;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What Prometheus, Grafana and an engineer on the node talk to: {@code /metrics}, {@code /healthz},
 * {@code /readyz}, {@code /status}, {@code /} and the blackbox-style {@code /probe}. One small event loop of its
 * own, so a scrape is never queued behind probe work.
 */
public final class AgentHttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentHttpServer.class);
    private static final int MAX_CONNECTIONS = 128;
    /** Per source address, loopback excepted: one client cannot take every connection (kubelet's probes too). */
    private static final int MAX_CONNECTIONS_PER_SOURCE = 16;
    /** From a request's first byte to its last: a slow trickle does not hold a connection. */
    private static final long REQUEST_DEADLINE_SECONDS = 10;
    private static final int MAX_REQUEST_BYTES = 8 * 1024;

    private final EventLoopGroup group;
    private final Channel server;
    private final Routes routes;
    /** What the server reads from the rest of the agent. */
    public record Sources(PrometheusRegistry registry, StatusBoard board, ProbeScheduler scheduler,
                          BooleanSupplier healthy, Clock clock) {
    }

    private AgentHttpServer(EventLoopGroup group, Channel server, Routes routes) {
        this.group = group;
        this.server = server;
        this.routes = routes;
    }

    public static AgentHttpServer start(InetSocketAddress listen, Sources sources) {
        EventLoopGroup group = EventLoops.group(1, "pullpath-http");
        Routes routes = new Routes(sources);
        AtomicInteger connections = new AtomicInteger();
        java.util.Map<java.net.InetAddress, AtomicInteger> perSource = new java.util.concurrent.ConcurrentHashMap<>();
        try {
            Channel ch = new ServerBootstrap().group(group)
                    .channel(EventLoops.EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 64)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            java.net.InetAddress source = c.remoteAddress().getAddress();
                            AtomicInteger fromSource = perSource.computeIfAbsent(source, a -> new AtomicInteger());
                            boolean overSource = !source.isLoopbackAddress()
                                    && fromSource.incrementAndGet() > MAX_CONNECTIONS_PER_SOURCE;
                            if (source.isLoopbackAddress()) {
                                fromSource.incrementAndGet();
                            }
                            if (connections.incrementAndGet() > MAX_CONNECTIONS || overSource) {
                                connections.decrementAndGet();
                                release(perSource, source, fromSource);
                                c.close();
                                return;
                            }
                            c.closeFuture().addListener(f -> {
                                connections.decrementAndGet();
                                release(perSource, source, fromSource);
                            });
                            c.pipeline().addLast(new RequestDeadline(REQUEST_DEADLINE_SECONDS))
                                    .addLast(new IdleStateHandler(0, 0, 60, TimeUnit.SECONDS))
                                    .addLast(new HttpServerCodec(4096, MAX_REQUEST_BYTES, MAX_REQUEST_BYTES))
                                    .addLast(new HttpServerKeepAliveHandler())
                                    .addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES))
                                    .addLast(new HttpContentCompressor())
                                    .addLast(routes);
                        }
                    })
                    .bind(listen).syncUninterruptibly().channel();
            return new AgentHttpServer(group, ch, routes);
        } catch (Exception e) { // bind failures arrive as checked exceptions thrown sneakily by Netty
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new ConfigException("cannot listen on " + dev.pullpath.config.IpLiterals.text(listen.getAddress())
                    + ":" + listen.getPort() + ": " + e.getMessage());
        }
    }

    private static void release(java.util.Map<java.net.InetAddress, AtomicInteger> perSource,
                                java.net.InetAddress source, AtomicInteger counter) {
        if (counter.decrementAndGet() <= 0) {
            perSource.remove(source, counter);
        }
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    /** Bounded: a shutdown must finish within the pod's grace period whatever state the loop is in. */
    @Override
    public void close() {
        server.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 500, TimeUnit.MILLISECONDS).awaitUninterruptibly(1, TimeUnit.SECONDS);
    }

    @ChannelHandler.Sharable
    private static final class Routes extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Sources sources;
        private final ExpositionFormats formats = ExpositionFormats.init();

        Routes(Sources sources) {
            this.sources = sources;
        }

        /** Requests that arrived (pipelined) while a /probe answer was pending: answered in order after it. */
        private static final io.netty.util.AttributeKey<java.util.ArrayDeque<FullHttpRequest>> WAITING =
                io.netty.util.AttributeKey.valueOf("pullpath.waiting");

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            RequestDeadline.met(ctx);
            java.util.ArrayDeque<FullHttpRequest> waiting = ctx.channel().attr(WAITING).get();
            if (waiting != null) {
                waiting.add(req.retain());
                return;
            }
            handle(ctx, req);
        }

        private void handle(ChannelHandlerContext ctx, FullHttpRequest req) {
            if (!req.decoderResult().isSuccess()) {
                send(ctx, req, text(HttpResponseStatus.BAD_REQUEST, "bad request\n"));
                return;
            }
            if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
                FullHttpResponse r = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET and HEAD\n");
                r.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
                send(ctx, req, r);
                return;
            }
            QueryStringDecoder uri = new QueryStringDecoder(req.uri(), StandardCharsets.UTF_8, true, 8);
            try {
                switch (uri.path()) {
                    case "/metrics" -> send(ctx, req, metrics(req.headers().get(HttpHeaderNames.ACCEPT)));
                    case "/healthz" -> send(ctx, req, sources.healthy.getAsBoolean()
                            ? text(HttpResponseStatus.OK, "ok\n")
                            : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "probes have stopped running\n"));
                    case "/readyz" -> send(ctx, req, sources.scheduler.ready() ? text(HttpResponseStatus.OK, "ready\n")
                            : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "first round of probes still running\n"));
                    case "/status" -> send(ctx, req, status());
                    case "/" -> send(ctx, req, page());
                    case "/probe" -> probe(ctx, req, uri.parameters());
                    default -> send(ctx, req, text(HttpResponseStatus.NOT_FOUND,
                            "not found: try /metrics, /status, /healthz, /readyz, /probe?target=NAME or /\n"));
                }
            } catch (RuntimeException e) {
                LOG.error("serving {} failed", uri.path(), e);
                send(ctx, req, text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error\n"));
            }
        }

        private FullHttpResponse metrics(String accept) {
            return exposition(sources.registry, accept, 16 * 1024);
        }

        /** A registry's scrape in the format the scraper asked for (text 0.0.4 unless it wants OpenMetrics). */
        private FullHttpResponse exposition(PrometheusRegistry registry, String accept, int sizeHint) {
            ExpositionFormatWriter writer = formats.findWriter(accept);
            ByteBuf body = Unpooled.buffer(sizeHint);
            try (OutputStream out = new ByteBufOutputStream(body)) {
                writer.write(out, registry.scrape());
            } catch (IOException e) {
                body.release();
                throw new IllegalStateException("writing metrics failed", e);
            }
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, writer.getContentType());
            return r;
        }

        private FullHttpResponse status() {
            StringBuilder b = new StringBuilder("[");
            AgentConfig config = sources.scheduler.config();
            for (dev.pullpath.schedule.TargetStatus s : sources.board.all(config.targets())) {
                b.append(b.length() > 1 ? ",\n" : "\n").append(StatusJson.line(s.report(),
                        sources.scheduler.registrySchedule(s.config().name()), sources.scheduler.fleet()));
            }
            b.append("\n]\n");
            return body(HttpResponseStatus.OK, "application/json", b.toString());
        }

        private FullHttpResponse page() {
            AgentConfig c = sources.scheduler.config();
            String html = StatusPage.render(c.node(), c.zone(), sources.board.all(c.targets()),
                    sources.scheduler.ready(), sources.clock.instant());
            FullHttpResponse r = body(HttpResponseStatus.OK, "text/html; charset=utf-8", html);
            r.headers().set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
            return r;
        }

        /** Blackbox-style: probe one target now and answer that probe's metrics (or its phase log). */
        private void probe(ChannelHandlerContext ctx, FullHttpRequest req, Map<String, List<String>> params) {
            List<String> names = params.get("target");
            if (names == null || names.size() != 1 || names.get(0).isBlank()) {
                send(ctx, req, text(HttpResponseStatus.BAD_REQUEST, "give exactly one target=NAME\n"));
                return;
            }
            String name = names.get(0);
            boolean debug = "true".equals(params.getOrDefault("debug", List.of("false")).get(0));
            AgentConfig config = sources.scheduler.config();
            TargetConfig target = config.target(name);
            if (target == null) {
                if (!config.allowUnconfiguredProbes()) {
                    send(ctx, req, text(HttpResponseStatus.FORBIDDEN, "target '"
                            + dev.pullpath.diagnosis.Redaction.snippet(name, 100)
                            + "' is not configured; /probe only probes configured targets "
                            + "(allowUnconfiguredProbes: true lifts this)\n"));
                    return;
                }
                try {
                    Target t = Target.parse(name);
                    target = new TargetConfig(t.name(), t, TargetKind.REGISTRY, Duration.ofSeconds(30),
                            Duration.ofMinutes(5), config.probe().timeout(), Map.of());
                } catch (ConfigException e) {
                    send(ctx, req, text(HttpResponseStatus.BAD_REQUEST, e.getMessage() + "\n"));
                    return;
                }
            }
            CompletableFuture<TargetReport> running = sources.scheduler.probeNow(target);
            if (running == null) {
                send(ctx, req, text(HttpResponseStatus.SERVICE_UNAVAILABLE, "too many probes running; retry later\n"));
                return;
            }
            req.retain();
            ctx.channel().attr(WAITING).set(new java.util.ArrayDeque<>());
            running.whenComplete((report, error) -> ctx.executor().execute(() -> {
                try {
                    if (error != null) {
                        send(ctx, req, text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "probe failed inside pullpath\n"));
                    } else if (debug) {
                        send(ctx, req, body(HttpResponseStatus.OK, "text/plain; charset=utf-8",
                                ProbeMetrics.debugLog(report)));
                    } else {
                        send(ctx, req, probeMetrics(report, req.headers().get(HttpHeaderNames.ACCEPT)));
                    }
                } finally {
                    req.release();
                    answerWaiting(ctx);
                }
            }));
        }

        private void answerWaiting(ChannelHandlerContext ctx) {
            java.util.ArrayDeque<FullHttpRequest> waiting = ctx.channel().attr(WAITING).getAndSet(null);
            while (waiting != null && !waiting.isEmpty()) {
                FullHttpRequest next = waiting.poll();
                try {
                    handle(ctx, next);
                } finally {
                    next.release();
                }
                if (ctx.channel().attr(WAITING).get() != null) {
                    // another /probe started: it answers the rest when it is done
                    ctx.channel().attr(WAITING).get().addAll(waiting);
                    return;
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            java.util.ArrayDeque<FullHttpRequest> waiting = ctx.channel().attr(WAITING).getAndSet(null);
            if (waiting != null) {
                waiting.forEach(FullHttpRequest::release);
            }
            super.channelInactive(ctx);
        }

        private FullHttpResponse probeMetrics(TargetReport r, String accept) {
            return exposition(ProbeMetrics.ofOneProbe(r), accept, 2048);
        }

        private static FullHttpResponse text(HttpResponseStatus status, String text) {
            return body(status, "text/plain; charset=utf-8", text);
        }

        private static FullHttpResponse body(HttpResponseStatus status, String contentType, String text) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
            return r;
        }

        private static void send(ChannelHandlerContext ctx, FullHttpRequest req, FullHttpResponse r) {
            r.headers().set("X-Content-Type-Options", "nosniff");
            r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
            HttpUtil.setContentLength(r, r.content().readableBytes());
            if (req.method() == HttpMethod.HEAD) {
                r.content().clear();
            }
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            HttpUtil.setKeepAlive(r, keepAlive);
            if (keepAlive) {
                ctx.writeAndFlush(r);
            } else {
                r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
