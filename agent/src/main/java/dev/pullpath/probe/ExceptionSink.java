package dev.pullpath.probe;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Last in every probe pipeline. A probe's errors are outcomes, already taken by the phase that waits for them
 * (and by {@link WireObserver}); letting them reach Netty's tail would only log a warning per failed probe.
 */
@ChannelHandler.Sharable
final class ExceptionSink extends ChannelInboundHandlerAdapter {
    static final String NAME = "exception-sink";
    static final ExceptionSink INSTANCE = new ExceptionSink();

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
