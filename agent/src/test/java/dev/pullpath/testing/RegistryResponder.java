package dev.pullpath.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.stream.ChunkedStream;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLException;

/**
 * An HTTPS server on 127.0.0.1 that mimics a container registry's {@code /v2/} handshake and
 * anonymous token endpoint (shaped after public.ecr.aws), with switchable failure modes.
 * Speaks HTTP/2 when ALPN selects h2, HTTP/1.1 (keep-alive) otherwise. All settings may be
 * changed at runtime; TLS settings (identity, ALPN) apply to connections accepted afterwards.
 */
public final class RegistryResponder implements AutoCloseable {
    public static final String API_VERSION_HEADER = "Docker-Distribution-API-Version";
    public static final String API_VERSION = "registry/2.0";
    /** Spelled as ECR spells it on HTTP/1.1; HTTP/2 lower-cases every header name anyway. */
    public static final String WWW_AUTHENTICATE = "Www-Authenticate";
    public static final String UNAUTHORIZED_BODY = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"Not Authorized\"}]}";
    public static final String STALE_CREDENTIAL_BODY =
            "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"Your Authorization Token is invalid.\"}]}";
    public static final String PORTAL_HTML = "<!DOCTYPE html><html><head><title>Network Login</title></head>"
            + "<body><h1>Welcome</h1><form action=\"/login\" method=\"post\">Sign in to continue.</form></body></html>";

    private static final int MAX_REQUEST_BYTES = 1 << 20;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What {@code /v2/} (and anything below it) answers. */
    public record Mode(Kind kind, int code) {
        public enum Kind { BEARER, BASIC, OPEN, STATUS, HTML_200, REJECT_TOKEN, STALE_CREDENTIAL_400, HUGE_BODY,
            POLICY_DENIED }

        /** 401 + Bearer challenge unless a token issued by this responder is presented. The default. */
        public static final Mode BEARER = new Mode(Kind.BEARER, 0);
        /** 401 + Basic challenge, as private ECR answers: anonymous pulls are impossible. */
        public static final Mode BASIC = new Mode(Kind.BASIC, 0);
        /** 200 with no authentication at all. */
        public static final Mode OPEN = new Mode(Kind.OPEN, 0);
        /** 200 text/html without registry headers: a captive portal or interception proxy. */
        public static final Mode HTML_200 = new Mode(Kind.HTML_200, 0);
        /** Bearer challenge even for valid tokens: anonymous access denied. */
        public static final Mode REJECT_TOKEN = new Mode(Kind.REJECT_TOKEN, 0);
        /** 400 DENIED for any Authorization that is not an issued token (a stale docker login); else BEARER. */
        public static final Mode STALE_CREDENTIAL_400 = new Mode(Kind.STALE_CREDENTIAL_400, 0);
        /** 200 with a multi-megabyte body (see {@link #hugeBodyBytes(long)}), streamed with backpressure. */
        public static final Mode HUGE_BODY = new Mode(Kind.HUGE_BODY, 0);
        /** 403 as ECR answers behind a VPC endpoint whose policy denies the caller. */
        public static final Mode POLICY_DENIED = new Mode(Kind.POLICY_DENIED, 0);

        public Mode {
            if ((kind == Kind.STATUS) != (code >= 100 && code <= 599)) {
                throw new IllegalArgumentException("only STATUS carries a code (100-599): " + kind + " " + code);
            }
        }

        /** A fixed status with a registry-style JSON error body; 429 also carries {@code Retry-After: 1}. */
        public static Mode status(int code) {
            return new Mode(Kind.STATUS, code);
        }
    }

    /**
     * One request as the server saw it. The Authorization header is reduced to its scheme
     * ("Bearer", "Basic"), and other headers to their names: credentials are never retained.
     */
    public record RecordedRequest(String method, String pathAndQuery, String protocol,
                                  boolean authorizationPresent, String authorizationScheme, String host,
                                  java.util.Set<String> headerNames) {}

    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final RequestHandler handler = new RequestHandler();
    private final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();
    private final Set<String> issuedTokens = ConcurrentHashMap.newKeySet();
    private final List<String> serverNames = new CopyOnWriteArrayList<>();
    private final AtomicInteger handshakes = new AtomicInteger();
    private final List<String> tlsFailures = new CopyOnWriteArrayList<>();

    private volatile PrivateKey key;
    private volatile X509Certificate[] chain;
    private volatile List<String> alpn = List.of(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);
    private volatile SslContext sslContext;
    private volatile Mode mode = Mode.BEARER;
    private volatile String hostForRealm = "127.0.0.1";
    private volatile String realmOverride;
    private volatile String service = "public.ecr.aws";
    private volatile int tokenStatus = 200;
    private volatile String tokenBody;
    private volatile long hugeBodyBytes = 8L << 20;
    private volatile boolean connectionClose;
    private volatile int requestsPerConnection;
    private final AtomicInteger openConnections = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger closeReused = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger closedUnanswered =
            new java.util.concurrent.atomic.AtomicInteger();
    private static final io.netty.util.AttributeKey<Integer> CARRIED = io.netty.util.AttributeKey.valueOf("carried");
    private final Set<String> manifests = ConcurrentHashMap.newKeySet();
    private static final java.util.regex.Pattern MANIFEST_PATH =
            java.util.regex.Pattern.compile("^/v2/(.+)/manifests/([^/]+)$");
    private static final java.util.regex.Pattern BLOB_PATH = java.util.regex.Pattern.compile("^/v2/(.+)/blobs/([^/]+)$");
    /** Manifests and indexes by {@code repo:tag} and {@code repo@digest}, and blobs by {@code repo@digest}. */
    private final java.util.Map<String, TinyImage.Document> documents = new ConcurrentHashMap<>();
    private final java.util.Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    private final java.util.Map<String, TinyImage> images = new ConcurrentHashMap<>();
    private volatile String blobRedirect;
    private volatile Answer otherPaths;

    /** A fixed answer: status, content type, body, and header name/value pairs. */
    public record Answer(int status, String contentType, String body, List<String> headers) {
        public static Answer of(int status, String contentType, String body, String... headers) {
            return new Answer(status, contentType, body, List.of(headers));
        }
    }

    public RegistryResponder(TestPki.Issued identity) {
        this(identity.key(), identity.chainArray());
    }

    public RegistryResponder(PrivateKey key, X509Certificate... chain) {
        this(Loopback.address(0), key, chain);
    }

    /**
     * Bound to {@code bind}: loopback for in-process tests, or an address of a network namespace the test made
     * (the lab's server host), never anything else.
     */
    public RegistryResponder(java.net.InetSocketAddress bind, PrivateKey key, X509Certificate... chain) {
        this(bind, false, key, chain);
    }

    /**
     * A registry over plain HTTP/1.1 on loopback, as an {@code http://} pull-through cache inside a VPC is: no TLS,
     * so use a mode that needs no token realm (such as {@link Mode#OPEN}).
     */
    public static RegistryResponder plainHttp() {
        return new RegistryResponder(Loopback.address(0), true, null);
    }

    private RegistryResponder(java.net.InetSocketAddress bind, boolean plain, PrivateKey key,
                              X509Certificate... chain) {
        this.key = key;
        this.chain = chain == null ? null : chain.clone();
        this.sslContext = plain ? null : buildSslContext();
        group = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("registry-responder", true),
                NioIoHandler.newFactory());
        try {
            serverChannel = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            openConnections.incrementAndGet();
                            ch.closeFuture().addListener(f -> openConnections.decrementAndGet());
                            // SniHandler reads SNI from the ClientHello itself (a resumed session would report
                            // the original handshake's names) and swaps itself for an SslHandler built from
                            // whatever context is current when the client connects.
                            if (plain) {
                                ch.pipeline().addLast(new HttpServerCodec(), new HttpServerKeepAliveHandler(),
                                        new HttpObjectAggregator(MAX_REQUEST_BYTES), new ChunkedWriteHandler(),
                                        handler);
                                return;
                            }
                            ch.pipeline().addLast(new SniHandler(host -> sslContext), new TlsFailureWatcher(), new Negotiator());
                        }
                    })
                    .bind(bind).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            throw e;
        }
    }

    // ---- configuration --------------------------------------------------------------------

    public RegistryResponder mode(Mode mode) {
        this.mode = mode;
        return this;
    }

    public Mode mode() {
        return mode;
    }

    /** ALPN protocols offered, in preference order; empty disables ALPN (client falls back to HTTP/1.1). */
    public synchronized RegistryResponder alpn(List<String> protocols) {
        this.alpn = List.copyOf(protocols);
        this.sslContext = buildSslContext();
        return this;
    }

    /** Swaps the served certificate, e.g. for an expired or wrong-name one, for new connections. */
    public synchronized RegistryResponder identity(TestPki.Issued identity) {
        this.key = identity.key();
        this.chain = identity.chainArray();
        this.sslContext = buildSslContext();
        return this;
    }

    /** Host put in default realms, e.g. a name the DNS fixture maps to 127.0.0.1. */
    public RegistryResponder hostForRealm(String host) {
        this.hostForRealm = host;
        return this;
    }

    /** Replaces the whole Bearer realm URL (null restores the default pointing back at this server). */
    public RegistryResponder realm(String realm) {
        this.realmOverride = realm;
        return this;
    }

    /** In {@link Mode#BASIC}: the one {@code user:password} whose Basic Authorization is answered 200. */
    public RegistryResponder basicLogin(String userColonPassword) {
        this.basicLogin = userColonPassword;
        return this;
    }

    private volatile String basicLogin;

    public RegistryResponder service(String service) {
        this.service = service;
        return this;
    }

    /** Status of {@code /token/}; anything but 200 issues no token. */
    public RegistryResponder tokenStatus(int status) {
        this.tokenStatus = status;
        return this;
    }

    /** Literal {@code /token/} body (no token is issued); null restores {@code {"token":"..."}}. */
    public RegistryResponder tokenBody(String body) {
        this.tokenBody = body;
        return this;
    }

    public RegistryResponder hugeBodyBytes(long bytes) {
        this.hugeBodyBytes = bytes;
        return this;
    }

    // ---- observation ----------------------------------------------------------------------

    /**
     * Serves {@code repo:ref} (e.g. {@code team/app:1.0}) to a valid token or login: a tiny image whose index has a
     * manifest for linux/amd64 and linux/arm64 (and an attestation), each with a config and one layer, the blobs
     * served by this registry (or redirected, see {@link #blobRedirect}). Other manifests are 404 MANIFEST_UNKNOWN.
     */
    public RegistryResponder manifest(String repoAndRef) {
        manifests.add(repoAndRef);
        int colon = repoAndRef.lastIndexOf(':');
        String repo = repoAndRef.substring(0, colon);
        TinyImage image = images.computeIfAbsent(repoAndRef, k -> TinyImage.build(repo));
        documents.put(repoAndRef, image.index());
        documents.put(repo + "@" + image.index().digest(), image.index());
        image.documents().forEach(d -> documents.put(repo + "@" + d.digest(), d));
        image.blobs().forEach((digest, bytes) -> blobs.put(repo + "@" + digest, bytes));
        return this;
    }

    /** Serves {@code repo:ref} as the given document (a single manifest, an index for other platforms...). */
    public RegistryResponder document(String repoAndRef, TinyImage.Document document) {
        manifests.add(repoAndRef);
        documents.put(repoAndRef, document);
        documents.put(repoAndRef.substring(0, repoAndRef.lastIndexOf(':')) + "@" + document.digest(), document);
        return this;
    }

    /** The tiny image {@link #manifest} serves for {@code repo:ref}. */
    public TinyImage image(String repoAndRef) {
        return images.get(repoAndRef);
    }

    /**
     * Blob GETs answer 307 to {@code base + "/blobs/" + digest}, with a presigned-looking query (S3 style: {@code
     * X-Amz-Credential}, {@code X-Amz-Signature}), as ECR and Docker Hub send layers to S3 or a CDN. A relative
     * {@code base} ("/elsewhere") redirects on this host. Null: blobs are served here.
     */
    public RegistryResponder blobRedirect(String base) {
        this.blobRedirect = base;
        return this;
    }

    /** What every path outside /v2/ and /token/ answers (null: 404): a CDN or S3 bucket's behaviour. */
    public RegistryResponder otherPaths(Answer answer) {
        this.otherPaths = answer;
        return this;
    }

    /** Blob content by digest, for a test serving it from elsewhere. */
    public byte[] blobContent(String repo, String digest) {
        return blobs.get(repo + "@" + digest);
    }

    /** The signature put in redirects' queries: a test checks it never reaches a report. */
    public static final String PRESIGNED_SIGNATURE = "f00dfeedcafe0123456789abcdef";

    /** Answer every HTTP/1.1 request with {@code Connection: close} and close the connection after it. */
    public RegistryResponder connectionClose(boolean close) {
        this.connectionClose = close;
        return this;
    }

    /**
     * Close each HTTP/1.1 connection after its {@code n}th answer, which says {@code Connection: close}: nginx's
     * {@code keepalive_requests}, a load balancer's request limit. 0: no limit.
     */
    public RegistryResponder requestsPerConnection(int n) {
        this.requestsPerConnection = n;
        return this;
    }

    /** Connections accepted and not yet closed, by either side. */
    public int openConnections() {
        return openConnections.get();
    }

    /**
     * Close, without a byte of answer, the next {@code n} requests that arrive on an HTTP/1.1 connection that already
     * carried one: a server whose keep-alive timeout fires as the client reuses the connection (the race Go's
     * transport retries).
     */
    public RegistryResponder closeReusedConnections(int n) {
        closeReused.set(n);
        return this;
    }

    /** How many requests {@link #closeReusedConnections} closed unanswered. */
    public int closedUnanswered() {
        return closedUnanswered.get();
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    public InetSocketAddress address() {
        return (java.net.InetSocketAddress) serverChannel.localAddress();
    }

    public String realm() {
        String r = realmOverride;
        return r != null ? r : "https://" + hostForRealm + ":" + port() + "/token/";
    }

    public List<RecordedRequest> requests() {
        return List.copyOf(requests);
    }

    public void clearRequests() {
        requests.clear();
    }

    public Set<String> issuedTokens() {
        return Set.copyOf(issuedTokens);
    }

    /** SNI host name of each TLS connection attempt (successful or not), in order; "" when none was sent. */
    public List<String> serverNames() {
        return List.copyOf(serverNames);
    }

    /**
     * Handshakes completed from the server's side. Under TLS 1.3 that happens before the client has
     * judged our certificate, so a rejecting client is counted here and in {@link #handshakeFailures()}.
     */
    public int handshakes() {
        return handshakes.get();
    }

    /** Connections that died on a TLS error, e.g. the client rejecting our certificate. */
    public int handshakeFailures() {
        return tlsFailures.size();
    }

    /** The TLS error of each such connection, e.g. "Received fatal alert: certificate_unknown". */
    public List<String> tlsFailures() {
        return List.copyOf(tlsFailures);
    }

    @Override
    public void close() {
        serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        // Also closes every accepted connection still registered on the loops.
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    // ---- TLS and protocol selection ----------------------------------------------------------

    private SslContext buildSslContext() {
        SslContextBuilder b = SslContextBuilder.forServer(key, chain).sslProvider(SslProvider.JDK);
        List<String> protocols = alpn;
        if (!protocols.isEmpty()) {
            // NO_ADVERTISE: a client offering nothing we speak gets no ALPN answer (HTTP/1.1 fallback)
            // rather than a fatal alert, which is what real registries do.
            b.applicationProtocolConfig(new ApplicationProtocolConfig(
                    ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    protocols));
        }
        try {
            return b.build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build server TLS context", e);
        }
    }

    private final class Negotiator extends ApplicationProtocolNegotiationHandler {
        Negotiator() {
            super(ApplicationProtocolNames.HTTP_1_1);
        }

        @Override
        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
            handshakes.incrementAndGet();
            if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                ctx.pipeline().addLast(
                        Http2FrameCodecBuilder.forServer().build(),
                        new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                            @Override
                            protected void initChannel(Http2StreamChannel ch) {
                                ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true),
                                        new HttpObjectAggregator(MAX_REQUEST_BYTES), new ChunkedWriteHandler(), handler);
                            }
                        }));
            } else {
                ctx.pipeline().addLast(new HttpServerCodec(), new HttpServerKeepAliveHandler(),
                        new HttpObjectAggregator(MAX_REQUEST_BYTES), new ChunkedWriteHandler(), handler);
            }
        }

        @Override
        protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // already recorded by TlsFailureWatcher; skip the default WARN stack trace
        }
    }

    /**
     * Sits right behind the SslHandler so it sees TLS errors before any HTTP codec swallows them.
     * Needed because with TLS 1.3 the JDK server engine reports the handshake complete before the
     * client has checked our certificate: a rejection arrives later as a fatal alert on an
     * apparently established connection, not as a handshake failure.
     */
    private final class TlsFailureWatcher extends ChannelInboundHandlerAdapter {
        private boolean recorded; // event-loop confined

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof SniCompletionEvent) {
                String host = ((SniCompletionEvent) evt).hostname();
                serverNames.add(host == null ? "" : host);
            }
            if (evt instanceof SslHandshakeCompletionEvent && !((SslHandshakeCompletionEvent) evt).isSuccess()) {
                record(((SslHandshakeCompletionEvent) evt).cause());
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable tls = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
            if (tls instanceof SSLException || cause instanceof NotSslRecordException) {
                record(tls);
                ctx.close();
            } else {
                ctx.fireExceptionCaught(cause);
            }
        }

        private void record(Throwable cause) {
            if (!recorded) {
                recorded = true;
                tlsFailures.add(String.valueOf(cause.getMessage()));
            }
        }
    }

    // ---- HTTP behaviour --------------------------------------------------------------------

    @ChannelHandler.Sharable
    private final class RequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            String authorization = req.headers().get(HttpHeaderNames.AUTHORIZATION);
            requests.add(new RecordedRequest(req.method().name(), req.uri(),
                    ctx.channel() instanceof Http2StreamChannel ? "h2" : "http/1.1",
                    authorization != null, scheme(authorization), req.headers().get(HttpHeaderNames.HOST),
                    req.headers().names().stream().map(n -> n.toLowerCase(java.util.Locale.ROOT))
                            .collect(java.util.stream.Collectors.toUnmodifiableSet())));
            if (!(ctx.channel() instanceof Http2StreamChannel)) {
                Integer carried = ctx.channel().attr(CARRIED).get();
                ctx.channel().attr(CARRIED).set(carried == null ? 1 : carried + 1);
                if (carried != null && closeReused.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    closedUnanswered.incrementAndGet();
                    ctx.close();
                    return;
                }
            }
            String path = new QueryStringDecoder(req.uri()).path();
            if (path.equals("/token") || path.equals("/token/")) {
                token(ctx, req);
            } else if (path.equals("/v2") || path.startsWith("/v2/")) {
                v2(ctx, req, authorization);
            } else if (otherPaths != null) {
                Answer a = otherPaths;
                send(ctx, req, HttpResponseStatus.valueOf(a.status()), a.contentType(), a.body(), false,
                        a.headers().toArray(String[]::new));
            } else {
                send(ctx, req, HttpResponseStatus.NOT_FOUND, "application/json", errorBody("NOT_FOUND", "page not found"), false);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private void token(ChannelHandlerContext ctx, FullHttpRequest req) {
        int status = tokenStatus;
        String body = tokenBody;
        if (body == null) {
            if (status == 200) {
                String token = newToken();
                issuedTokens.add(token);
                body = "{\"token\":\"" + token + "\"}";
            } else {
                body = errorBody("UNKNOWN", "token service failure");
            }
        }
        send(ctx, req, HttpResponseStatus.valueOf(status), "application/json", body, false);
    }

    private void v2(ChannelHandlerContext ctx, FullHttpRequest req, String authorization) {
        Mode m = mode;
        boolean validToken = isIssuedBearer(authorization);
        boolean authorized = validToken || (m.kind() == Mode.Kind.BASIC && isBasicLogin(authorization));
        java.util.regex.Matcher manifest = MANIFEST_PATH.matcher(new QueryStringDecoder(req.uri()).path());
        java.util.regex.Matcher blob = BLOB_PATH.matcher(new QueryStringDecoder(req.uri()).path());
        if (blob.matches() && authorized && m.kind() != Mode.Kind.REJECT_TOKEN) {
            blob(ctx, req, blob.group(1), blob.group(2));
            return;
        }
        if (manifest.matches() && authorized && m.kind() != Mode.Kind.REJECT_TOKEN) {
            TinyImage.Document doc = documents.get(manifest.group(1) + ":" + manifest.group(2));
            doc = doc != null ? doc : documents.get(manifest.group(1) + "@" + manifest.group(2));
            if (doc != null) {
                send(ctx, req, HttpResponseStatus.OK, doc.mediaType(), doc.json(), true,
                        "Docker-Content-Digest", doc.digest());
            } else {
                send(ctx, req, HttpResponseStatus.NOT_FOUND, "application/json", errorBody("MANIFEST_UNKNOWN",
                        "manifest unknown"), true);
            }
            return;
        }
        switch (m.kind()) {
            case OPEN:
                ok(ctx, req);
                break;
            case BEARER:
                if (validToken) {
                    ok(ctx, req);
                } else {
                    bearerChallenge(ctx, req);
                }
                break;
            case STALE_CREDENTIAL_400:
                if (validToken) {
                    ok(ctx, req);
                } else if (authorization != null) {
                    send(ctx, req, HttpResponseStatus.BAD_REQUEST, "application/json", STALE_CREDENTIAL_BODY, true);
                } else {
                    bearerChallenge(ctx, req);
                }
                break;
            case REJECT_TOKEN:
                bearerChallenge(ctx, req);
                break;
            case BASIC:
                if (isBasicLogin(authorization)) {
                    ok(ctx, req);
                    break;
                }
                send(ctx, req, HttpResponseStatus.UNAUTHORIZED, "application/json", UNAUTHORIZED_BODY, true,
                        WWW_AUTHENTICATE, "Basic realm=\"https://" + hostForRealm + ":" + port() + "/\",service=\"ecr.amazonaws.com\"");
                break;
            case STATUS:
                int code = m.code();
                String[] extra = code == 429 ? new String[] {"Retry-After", "1"} : new String[0];
                send(ctx, req, HttpResponseStatus.valueOf(code), "application/json",
                        errorBody(errorCode(code), HttpResponseStatus.valueOf(code).reasonPhrase()), true, extra);
                break;
            case POLICY_DENIED:
                send(ctx, req, HttpResponseStatus.FORBIDDEN, "application/json", errorBody("DENIED",
                        "AccessDenied: User: anonymous is not authorized to perform: ecr:BatchGetImage with an "
                                + "explicit deny in a VPC endpoint policy"), true);
                break;
            case HTML_200:
                send(ctx, req, HttpResponseStatus.OK, "text/html; charset=utf-8", PORTAL_HTML, false);
                break;
            case HUGE_BODY:
                hugeBody(ctx, req);
                break;
            default:
                throw new IllegalStateException(m.toString());
        }
    }

    private void blob(ChannelHandlerContext ctx, FullHttpRequest req, String repo, String digest) {
        String redirect = blobRedirect;
        if (redirect != null) {
            String location = redirect + "/blobs/" + digest + "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
                    + "AKIAEXAMPLE%2F20261203%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Expires=1200&X-Amz-Signature="
                    + PRESIGNED_SIGNATURE;
            send(ctx, req, HttpResponseStatus.TEMPORARY_REDIRECT, "text/html", "", true, "Location", location);
            return;
        }
        byte[] content = blobs.get(repo + "@" + digest);
        if (content == null) {
            send(ctx, req, HttpResponseStatus.NOT_FOUND, "application/json", errorBody("BLOB_UNKNOWN",
                    "blob unknown to registry"), true);
            return;
        }
        sendBytes(ctx, req, content);
    }

    /** A blob's bytes, or the one byte {@code Range: bytes=0-0} asks for (206), as S3 and registries answer. */
    static void sendBytes(ChannelHandlerContext ctx, FullHttpRequest req, byte[] content) {
        boolean firstByte = "bytes=0-0".equals(req.headers().get(HttpHeaderNames.RANGE)) && content.length > 0;
        byte[] body = firstByte ? Arrays.copyOf(content, 1) : content;
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                firstByte ? HttpResponseStatus.PARTIAL_CONTENT : HttpResponseStatus.OK,
                req.method().equals(HttpMethod.HEAD) ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        if (firstByte) {
            resp.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes 0-0/" + content.length);
        }
        ctx.writeAndFlush(resp);
    }

    private void ok(ChannelHandlerContext ctx, FullHttpRequest req) {
        send(ctx, req, HttpResponseStatus.OK, "application/json", "{}", true);
    }

    private void bearerChallenge(ChannelHandlerContext ctx, FullHttpRequest req) {
        send(ctx, req, HttpResponseStatus.UNAUTHORIZED, "application/json", UNAUTHORIZED_BODY, true,
                WWW_AUTHENTICATE, "Bearer realm=\"" + realm() + "\",service=\"" + service + "\",scope=\"aws\"");
    }

    private void hugeBody(ChannelHandlerContext ctx, FullHttpRequest req) {
        long size = hugeBodyBytes;
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream")
                .set(HttpHeaderNames.CONTENT_LENGTH, size)
                .set(API_VERSION_HEADER, API_VERSION);
        ctx.write(head);
        if (req.method().equals(HttpMethod.HEAD)) {
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            return;
        }
        // ChunkedWriteHandler pulls the next chunk only when the channel (or h2 stream window) is
        // writable, so a client that stops reading stalls us instead of ballooning memory.
        ctx.writeAndFlush(new HttpChunkedInput(new ChunkedStream(new FillerStream(size), 64 * 1024)));
    }

    private void send(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status,
                             String contentType, String body, boolean registryHeaders, String... extraHeaders) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        boolean head = req.method().equals(HttpMethod.HEAD);
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes));
        HttpHeaders h = resp.headers();
        h.set(HttpHeaderNames.CONTENT_TYPE, contentType).setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        if (registryHeaders) {
            h.set(API_VERSION_HEADER, API_VERSION);
        }
        for (int i = 0; i + 1 < extraHeaders.length; i += 2) {
            h.add(extraHeaders[i], extraHeaders[i + 1]);
        }
        int limit = requestsPerConnection;
        Integer carried = ctx.channel().attr(CARRIED).get();
        if (connectionClose || limit > 0 && carried != null && carried >= limit) {
            // HttpServerKeepAliveHandler closes the connection once this response is written.
            h.set(HttpHeaderNames.CONNECTION, "close");
        }
        ctx.writeAndFlush(resp);
    }

    private boolean isBasicLogin(String authorization) {
        String login = basicLogin;
        return login != null && authorization != null && authorization.trim().equals("Basic "
                + Base64.getEncoder().encodeToString(login.getBytes(StandardCharsets.UTF_8)));
    }

    private boolean isIssuedBearer(String authorization) {
        if (authorization == null || !"bearer".equals(scheme(authorization).toLowerCase(Locale.ROOT))) {
            return false;
        }
        return issuedTokens.contains(authorization.substring(authorization.indexOf(' ') + 1).trim());
    }

    private static String scheme(String authorization) {
        if (authorization == null) {
            return null;
        }
        String a = authorization.trim();
        int sp = a.indexOf(' ');
        return sp < 0 ? a : a.substring(0, sp);
    }

    private static String errorCode(int status) {
        switch (status) {
            case 401: return "UNAUTHORIZED";
            case 403: return "DENIED";
            case 404: return "NOT_FOUND";
            case 429: return "TOOMANYREQUESTS";
            case 503: return "UNAVAILABLE";
            default: return "UNKNOWN";
        }
    }

    private static String errorBody(String code, String message) {
        return "{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"" + message + "\"}]}";
    }

    private static String newToken() {
        byte[] b = new byte[24];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** An endless-looking body generated on the fly, so HUGE_BODY costs no heap. */
    private static final class FillerStream extends InputStream {
        private long remaining;

        FillerStream(long size) {
            this.remaining = size;
        }

        @Override
        public int read() {
            if (remaining <= 0) {
                return -1;
            }
            remaining--;
            return 'x';
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (remaining <= 0) {
                return -1;
            }
            int n = (int) Math.min(len, remaining);
            Arrays.fill(b, off, off + n, (byte) 'x');
            remaining -= n;
            return n;
        }

        @Override
        public int available() {
            return (int) Math.min(Integer.MAX_VALUE, remaining);
        }
    }
}
