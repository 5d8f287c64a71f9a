package dev.pullpath.probe;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.net.SocketAddress;

/**
 * Sits first in every probe pipeline and notes what happened on the wire before any decoding: when the connect
 * was really issued (not when it was queued), and whether the peer sent a single byte, which tells a firewall
 * that kills the handshake apart from a TLS server that refused it.
 */
final class WireObserver extends ChannelDuplexHandler {
    static final String NAME = "wire-observer";

    private volatile long connectIssuedNanos;
    private volatile long bytesReceived;
    private volatile Throwable firstError;

    @Override
    public void connect(ChannelHandlerContext ctx, SocketAddress remote, SocketAddress local, ChannelPromise promise) {
        connectIssuedNanos = System.nanoTime();
        ctx.connect(remote, local, promise);
    }

    /** When the event loop issued connect(2), or 0 before it did. */
    long connectIssuedNanos() {
        return connectIssuedNanos;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            bytesReceived += buf.readableBytes();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (firstError == null) {
            firstError = cause;
        }
        ctx.fireExceptionCaught(cause);
    }

    long bytesReceived() {
        return bytesReceived;
    }

    Throwable firstError() {
        return firstError;
    }
}
