package dev.pullpath.probe;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Sits first in every probe pipeline and notes what arrived from the peer before any decoding: whether the peer
 * sent a single byte tells a firewall that kills the handshake apart from a TLS server that refused it.
 */
final class WireObserver extends ChannelInboundHandlerAdapter {
    static final String NAME = "wire-observer";

    private volatile long bytesReceived;
    private volatile Throwable firstError;
    private volatile boolean closedByPeer;

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

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closedByPeer = true;
        ctx.fireChannelInactive();
    }

    long bytesReceived() {
        return bytesReceived;
    }

    Throwable firstError() {
        return firstError;
    }

    boolean inactive() {
        return closedByPeer;
    }
}
