package dev.pullpath.probe;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.unix.UnixChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The Netty resources every probe shares. An agent, not a server: one or two event-loop threads carry all
 * connections, and every stage is non-blocking, so they are never the bottleneck.
 */
public final class Transport implements AutoCloseable {
    private final EventLoopGroup group;
    private final Bootstrap bootstrap;

    public Transport(int threads) {
        // epoll on Linux: its sockets expose their descriptor, which the ICMP error queue is read from.
        boolean epoll = Epoll.isAvailable() && !Boolean.getBoolean("pullpath.nio");
        this.group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("pullpath-io", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        this.bootstrap = new Bootstrap()
                .group(group)
                .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        IcmpErrorQueue.enable(fd(ch));
                        ch.pipeline().addFirst(WireObserver.NAME, new WireObserver());
                        ch.pipeline().addLast(ExceptionSink.NAME, ExceptionSink.INSTANCE);
                    }
                });
    }

    /** The socket's descriptor, or -1 where the transport does not expose it (NIO). */
    static int fd(io.netty.channel.Channel ch) {
        return ch instanceof UnixChannel unix && unix.fd().isOpen() ? unix.fd().intValue() : -1;
    }

    public EventLoopGroup group() {
        return group;
    }

    /** A fresh configured copy: the caller sets per-probe options (the connect timeout) on it. */
    Bootstrap bootstrap() {
        return bootstrap.clone();
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 500, TimeUnit.MILLISECONDS).awaitUninterruptibly(1, TimeUnit.SECONDS);
    }
}
