package dev.pullpath.probe;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.CompletableFuture;

/**
 * Collects one response at a time with a hard bound on the body: past {@code maxBody} bytes it completes as
 * truncated and closes the stream, so a peer that sends forever costs at most the bound.
 */
final class ResponseCollector extends ChannelInboundHandlerAdapter {
    /** Whether the pending request is not the connection's first (a keep-alive connection reused). */
    private boolean reused;
    private final String protocol;
    private final int maxBody;
    private int limit;
    private CompletableFuture<BoundedResponse> pending;
    private HttpResponse head;
    private ByteArrayOutputStream body;

    ResponseCollector(String protocol, int maxBody) {
        this.protocol = protocol;
        this.maxBody = maxBody;
    }

    /** Must be called on the channel's event loop before the request is written. */
    void expect(CompletableFuture<BoundedResponse> future) {
        expect(future, maxBody);
    }

    /** ... with a bound of its own for this response's body (a manifest's, a blob's few bytes). */
    void expect(CompletableFuture<BoundedResponse> future, int bound) {
        if (pending != null && pending.isDone() && head != null) {
            reused = true; // the connection answered a request before this one
        }
        this.limit = bound;
        this.pending = future;
        this.head = null;
        this.body = new ByteArrayOutputStream();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (pending == null || pending.isDone()) {
                return;
            }
            if (msg instanceof HttpResponse r) {
                if (r.decoderResult().isFailure()) {
                    pending.completeExceptionally(new MalformedResponseException(
                            "malformed response: " + r.decoderResult().cause().getMessage()));
                    ctx.close();
                    return;
                }
                if (r.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                    return;
                }
                head = r;
            }
            if (msg instanceof HttpContent c && head != null) {
                if (c.decoderResult().isFailure()) {
                    pending.completeExceptionally(new MalformedResponseException(
                            "malformed response body: " + c.decoderResult().cause().getMessage()));
                    ctx.close();
                    return;
                }
                ByteBuf content = c.content();
                int room = limit - body.size();
                int take = Math.min(room, content.readableBytes());
                if (take > 0) {
                    byte[] chunk = new byte[take];
                    content.getBytes(content.readerIndex(), chunk);
                    body.write(chunk, 0, take);
                }
                if (content.readableBytes() > take) {
                    finish(true);
                    ctx.close();
                } else if (c instanceof LastHttpContent) {
                    finish(false);
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void finish(boolean truncated) {
        HttpHeaders copy = new DefaultHttpHeaders().add(head.headers());
        pending.complete(new BoundedResponse(protocol, head.status().code(), head.status().reasonPhrase(), copy,
                body.toByteArray(), truncated, !truncated && HttpUtil.isKeepAlive(head)));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (pending != null && !pending.isDone()) {
            pending.completeExceptionally(cause instanceof java.io.IOException && beforeAnswer()
                    ? new HttpConnection.ReusedConnectionClosed(cause.toString()) : cause);
        }
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (pending != null && !pending.isDone()) {
            pending.completeExceptionally(beforeAnswer() ? new HttpConnection.ReusedConnectionClosed("closed")
                    : new ClosedChannelException());
        }
        ctx.fireChannelInactive();
    }

    /** True when this connection had answered before and nothing of the pending answer came yet. */
    boolean beforeAnswer() {
        return reused && head == null;
    }

    /** The peer sent something that is not HTTP, or HTTP beyond the bounds (header too long, bad chunking). */
    static final class MalformedResponseException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        MalformedResponseException(String message) {
            super(message, null, false, false);
        }
    }
}
