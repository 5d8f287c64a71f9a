package dev.pullpath.probe;

import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.Evidence;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.Redaction;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The proxy hop: {@code CONNECT host:port} on a connection to the HTTPS proxy, as Go's transport (containerd's)
 * sends it, with {@code Proxy-Authorization: Basic} when the proxy URL carries credentials. The answer's status
 * line, the headers that identify the proxy and a bounded body snippet are evidence; the credentials never are.
 * On a 2xx the HTTP stages leave the pipeline in the same turn, and TLS to the target starts on the tunnel.
 */
public final class ProxyTunnel implements Hop<ProxyTunnel.ToProxy, Evidence.Proxy> {
    private static final int MAX_BODY = 2048;
    private static final List<String> IDENTIFYING = List.of("server", "via", "x-squid-error", "proxy-authenticate",
            "www-authenticate", "x-cache", "content-type");

    private final long timeoutMillis;

    /** What the proxy said, whatever it was. */
    record Answer(int status, String statusLine, Map<String, String> headers, String body) {
    }

    public ProxyTunnel(long timeoutMillis) {
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public Phase phase() {
        return Phase.PROXY_TUNNEL;
    }

    /** {@code CONNECT} the probe's target through the proxy on {@code input}'s channel. */
    @Override
    public CompletableFuture<PhaseResult<Evidence.Proxy>> run(ToProxy input, ProbeContext ctx) {
        return open(input.channel(), input.proxyText(), input.where(), ctx.target(), input.authorization());
    }

    /**
     * @param channel       connected to the proxy
     * @param proxyText     the proxy's URL with the password redacted, for evidence
     * @param where         the proxy's address
     * @param authorization the {@code Proxy-Authorization} value, or null; never logged or reported
     */
    record ToProxy(Channel channel, String proxyText, String where, String authorization) {
    }

    private CompletableFuture<PhaseResult<Evidence.Proxy>> open(Channel channel, String proxyText, String where,
                                                                Target target, String authorization) {
        long start = System.nanoTime();
        CompletableFuture<Answer> answer = new CompletableFuture<>();
        channel.eventLoop().execute(() -> {
            if (!channel.isActive()) {
                answer.completeExceptionally(new java.nio.channels.ClosedChannelException());
                return;
            }
            HttpClientCodec codec = new HttpClientCodec(HttpConnection.MAX_INITIAL_LINE, HttpConnection.MAX_HEADER_BYTES,
                    8192);
            ConnectAnswer reader = new ConnectAnswer(answer, codec);
            channel.pipeline().addBefore(ExceptionSink.NAME, "proxy-http", codec);
            channel.pipeline().addBefore(ExceptionSink.NAME, "proxy-answer", reader);
            FullHttpRequest connect = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.CONNECT,
                    target.authorityWithPort());
            connect.headers().set(HttpHeaderNames.HOST, target.authorityWithPort());
            connect.headers().set(HttpHeaderNames.USER_AGENT, dev.pullpath.Version.userAgent());
            if (authorization != null) {
                connect.headers().set(HttpHeaderNames.PROXY_AUTHORIZATION, authorization);
            }
            channel.writeAndFlush(connect).addListener(w -> {
                if (!w.isSuccess()) {
                    answer.completeExceptionally(w.cause());
                }
            });
            channel.eventLoop().schedule(() -> {
                // A status line that came without an end (a 407 with no length on a kept connection) still counts.
                if (!reader.finishIfAnswered() && answer.completeExceptionally(
                        new java.util.concurrent.TimeoutException())) {
                    channel.close();
                }
            }, timeoutMillis, TimeUnit.MILLISECONDS);
        });
        return answer.handle((a, error) -> {
            if (error != null) {
                Throwable t = Futures.cause(error);
                Reason reason = t instanceof java.util.concurrent.TimeoutException ? Reason.PROXY_TIMEOUT
                        : Reason.PROXY_DENIED;
                String summary = reason == Reason.PROXY_TIMEOUT
                        ? "proxy " + proxyText + " (" + where + ") accepted the connection but did not answer CONNECT "
                        + target.authorityWithPort() + " within " + timeoutMillis + "ms"
                        : "proxy " + proxyText + " (" + where + ") closed the connection instead of answering CONNECT "
                        + target.authorityWithPort();
                channel.close();
                return PhaseResult.failed(Phase.PROXY_TUNNEL, start, reason, summary,
                        new Evidence.Proxy(proxyText, where, null, null, null));
            }
            Evidence.Proxy evidence = new Evidence.Proxy(proxyText, where, a.statusLine, a.headers,
                    a.body.isEmpty() ? null : a.body);
            if (a.status == 200) { // Go accepts exactly 200 as an established tunnel
                return PhaseResult.ok(Phase.PROXY_TUNNEL, start, "CONNECT " + target.authorityWithPort() + " via "
                        + proxyText + " -> " + a.statusLine, evidence);
            }
            channel.close();
            // 407 is the rule; some proxies (tinyproxy) answer a CONNECT with wrong credentials with 401.
            boolean auth = a.status == 407 || a.status == 401;
            Reason reason = auth ? Reason.PROXY_AUTH_REQUIRED
                    : a.status >= 500 ? Reason.PROXY_UPSTREAM_FAILED : Reason.PROXY_DENIED;
            String who = a.headers.isEmpty() ? "" : " " + a.headers;
            String body = a.body.isEmpty() ? "" : ": " + Redaction.snippet(a.body, 120);
            String credentials = auth ? (authorization == null ? " (no credentials were sent)"
                    : " (the credentials in the proxy URL were refused)") : "";
            return PhaseResult.failed(Phase.PROXY_TUNNEL, start, reason, "proxy " + proxyText + " (" + where
                    + ") answered CONNECT " + target.authorityWithPort() + " with " + a.statusLine + credentials + who
                    + body, evidence);
        });
    }

    /** Reads the proxy's answer to CONNECT; on a 2xx, takes the HTTP stages off the pipeline before any TLS byte. */
    private static final class ConnectAnswer extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<Answer> answer;
        private final HttpClientCodec codec;
        private HttpResponse head;
        private final StringBuilder body = new StringBuilder();

        ConnectAnswer(CompletableFuture<Answer> answer, HttpClientCodec codec) {
            this.answer = answer;
            this.codec = codec;
        }

        private ChannelHandlerContext context;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            context = ctx;
        }

        /** On the timer: finish with what arrived, if the status line did. */
        boolean finishIfAnswered() {
            if (head == null || answer.isDone()) {
                return false;
            }
            finish(context);
            context.close();
            return true;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf) {
                ctx.fireChannelRead(msg); // raw bytes the codec let go of belong to the tunnel, not to this answer
                return;
            }
            try {
                if (msg instanceof HttpResponse r) {
                    if (r.decoderResult().isFailure()) {
                        answer.completeExceptionally(r.decoderResult().cause());
                        return;
                    }
                    head = r;
                }
                if (msg instanceof HttpContent c && head != null) {
                    ByteBuf content = c.content();
                    int room = MAX_BODY - body.length();
                    if (room > 0) {
                        body.append(content.toString(content.readerIndex(), Math.min(room, content.readableBytes()),
                                StandardCharsets.UTF_8));
                    }
                    if (c instanceof LastHttpContent || body.length() >= MAX_BODY) {
                        finish(ctx);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void finish(ChannelHandlerContext ctx) {
            Map<String, String> headers = new LinkedHashMap<>();
            for (String name : IDENTIFYING) {
                String v = head.headers().get(name);
                if (v != null) {
                    headers.put(name, Redaction.snippet(v, 200));
                }
            }
            int status = head.status().code();
            if (status == 200) {
                // Off the pipeline before anyone sees the answer: the next stage (TLS) starts in this same turn.
                ctx.pipeline().remove(codec);
                ctx.pipeline().remove(this);
            }
            answer.complete(new Answer(status, head.status().toString(), headers, Redaction.snippet(body.toString(),
                    MAX_BODY)));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (head != null && !answer.isDone()) {
                finish(ctx);
            }
            answer.completeExceptionally(new java.nio.channels.ClosedChannelException());
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            answer.completeExceptionally(cause);
            ctx.close();
        }
    }
}
