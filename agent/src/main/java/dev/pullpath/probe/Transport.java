package dev.pullpath.probe;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.UnixChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The Netty resources every probe shares. An agent, not a server: one or two event-loop threads carry all
 * connections, and every stage is non-blocking, so they are never the bottleneck.
 */
public final class Transport implements AutoCloseable {
    private final EventLoopGroup group;
    private final Bootstrap bootstrap;

    public Transport(int threads) {
        this.group = EventLoops.group(threads, "pullpath-io");
        this.bootstrap = new Bootstrap()
                .group(group)
                .channel(EventLoops.EPOLL ? EpollSocketChannel.class : NioSocketChannel.class)
                // No ALLOCATOR option: Netty's default allocator, so the image's -Dio.netty.allocator.type
                // decides (a pooled allocator named here ignored it and kept its arenas, about 6 MiB).
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

    /**
     * Socket options set before connect(2), for the probes that shape the attempt: a hop limit for the traceroute,
     * a small MSS for the path-MTU check. {@link #DEFAULT} leaves the kernel's defaults.
     */
    record Shape(int hopLimit, int maxSegment) {
        static final Shape DEFAULT = new Shape(0, 0);

        /**
         * Sets this shape's options on {@code fd}; false when one could not be set, as the attempt would then not
         * test what it claims. The hop limit is the IPv6 one for an IPv6 destination, else IPv4's (which Netty's
         * dual-stack sockets use for mapped IPv4 addresses).
         */
        boolean applyTo(int fd, boolean v6) {
            boolean ok = true;
            if (hopLimit > 0) {
                ok = v6 ? NativeSockets.setInt(fd, NativeSockets.SOL_IPV6, NativeSockets.IPV6_UNICAST_HOPS, hopLimit)
                        : NativeSockets.setInt(fd, NativeSockets.SOL_IP, NativeSockets.IP_TTL, hopLimit);
            }
            if (maxSegment > 0) {
                ok &= NativeSockets.setInt(fd, NativeSockets.SOL_TCP, NativeSockets.TCP_MAXSEG, maxSegment);
            }
            return ok;
        }

        static Shape hopLimit(int hops) {
            return new Shape(hops, 0);
        }

        static Shape maxSegment(int bytes) {
            return new Shape(0, bytes);
        }
    }

    /**
     * What one connect attempt ended with. {@code channel} is open and connected on success, null otherwise;
     * {@code icmp} is the ICMP error the kernel queued for the socket, read before the socket was released.
     *
     * @param issuedNanos when the event loop issued connect(2) ({@link System#nanoTime()})
     * @param endedNanos  when the attempt's outcome was known
     */
    record Attempt(Channel channel, Throwable cause, IcmpErrorQueue.IcmpError icmp, long issuedNanos,
                   long endedNanos) {
        boolean connected() {
            return channel != null;
        }

        double rttMillis() {
            return Math.round((endedNanos - issuedNanos) / 1_000.0) / 1_000.0;
        }
    }

    /**
     * One connect attempt whose failure is looked at before the socket goes away.
     *
     * <p>{@code Bootstrap.connect} adds its own close-on-failure listener from the event loop, and whether that
     * runs before or after a listener the caller adds depends on which thread gets there first: when the close won,
     * the error queue had gone with the socket and an ICMP reject was reported as a bare EHOSTUNREACH (the
     * rejecting hop lost, in most runs on a busy machine). Here the channel is registered first and the attempt's
     * own promise carries the only failure listener, which reads the queue and then closes the channel.
     */
    CompletableFuture<Attempt> connect(InetSocketAddress address, long timeoutMillis, Shape shape) {
        CompletableFuture<Attempt> out = new CompletableFuture<>();
        long queued = System.nanoTime();
        ChannelFuture registered = bootstrap.clone()
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeoutMillis))
                .register();
        Channel channel = registered.channel();
        registered.addListener(r -> {
            // on the channel's event loop from here on
            if (!r.isSuccess()) {
                channel.close();
                out.complete(new Attempt(null, r.cause(), null, queued, System.nanoTime()));
                return;
            }
            if (!shape.applyTo(fd(channel), address.getAddress() instanceof java.net.Inet6Address)) {
                channel.close();
                out.complete(new Attempt(null, new java.io.IOException("the socket refused " + shape), null, queued,
                        System.nanoTime()));
                return;
            }
            ChannelPromise promise = channel.newPromise();
            boolean[] inConnectCall = {true};
            promise.addListener(done -> {
                WireObserver wire = channel.pipeline().get(WireObserver.class);
                long issued = wire != null && wire.connectIssuedNanos() != 0 ? wire.connectIssuedNanos() : queued;
                long ended = System.nanoTime();
                if (done.isSuccess()) {
                    // Once connected, an ICMP soft error must not become a hard one (ip(7)): containerd would
                    // retransmit.
                    IcmpErrorQueue.disable(fd(channel));
                    out.complete(new Attempt(channel, null, null, issued, ended));
                    return;
                }
                int fd = fd(channel);
                IcmpErrorQueue.IcmpError icmp = IcmpErrorQueue.read(fd);
                if (icmp != null || inConnectCall[0] || !IcmpErrorQueue.mayFollow(done.cause())) {
                    channel.close();
                    out.complete(new Attempt(null, done.cause(), icmp, issued, ended));
                    return;
                }
                // An error reported asynchronously that an ICMP message could explain, with the queue still empty:
                // wait a little for it on a duplicate of the descriptor, so the channel is released as usual.
                int copy = NativeSockets.dup(fd);
                channel.close();
                awaitQueued(channel.eventLoop(), copy, System.nanoTime() + QUEUED_ERROR_WAIT_NANOS,
                        icmpSeen -> out.complete(new Attempt(null, done.cause(), icmpSeen, issued, ended)));
            });
            channel.connect(address, promise);
            inConnectCall[0] = false;
        });
        return out;
    }

    /** How long a failed connect waits for the ICMP error that explains it, when it is not queued yet. */
    static final long QUEUED_ERROR_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private static void awaitQueued(EventLoop loop, int fd, long deadline,
                                    java.util.function.Consumer<IcmpErrorQueue.IcmpError> then) {
        IcmpErrorQueue.IcmpError icmp = IcmpErrorQueue.read(fd);
        if (icmp != null || fd < 0 || System.nanoTime() >= deadline) {
            NativeSockets.close(fd);
            then.accept(icmp);
            return;
        }
        loop.schedule(() -> awaitQueued(loop, fd, deadline, then), 5, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 500, TimeUnit.MILLISECONDS).awaitUninterruptibly(1, TimeUnit.SECONDS);
    }
}
