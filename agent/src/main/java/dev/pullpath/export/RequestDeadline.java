package dev.pullpath.export;

import io.netty.channel.ChannelHandlerContext;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection whose request has not arrived in full within the deadline of its first byte: a slowloris
 * trickle, which an idle timeout alone lets live forever.
 */
final class RequestDeadline extends io.netty.channel.ChannelInboundHandlerAdapter {
    private final long seconds;
    private io.netty.util.concurrent.ScheduledFuture<?> timer;

    RequestDeadline(long seconds) {
        this.seconds = seconds;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (timer == null) {
            timer = ctx.executor().schedule(() -> {
                ctx.close();
            }, seconds, TimeUnit.SECONDS);
        }
        ctx.fireChannelRead(msg);
    }

    /** A whole request arrived: the next one gets its own deadline from its first byte. */
    static void met(ChannelHandlerContext ctx) {
        RequestDeadline d = ctx.pipeline().get(RequestDeadline.class);
        if (d != null && d.timer != null) {
            d.timer.cancel(false);
            d.timer = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
        }
        ctx.fireChannelInactive();
    }
}
