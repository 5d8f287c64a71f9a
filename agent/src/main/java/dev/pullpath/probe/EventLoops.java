package dev.pullpath.probe;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SingleThreadIoEventLoop;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.Executor;

/**
 * The agent's Netty event loops: the probes' and the HTTP server's. They are idle nearly all their life (a few
 * probes a minute), so an idle loop sleeps until I/O, a task or its next timer wakes it. Netty 4.2's loop, with
 * nothing scheduled, waits at most a second ({@code SingleThreadEventExecutor}'s purge interval, from when cancelled
 * timers were swept in passing; a cancelled timer is now removed from the queue when it is cancelled): each loop
 * woke 86,400 times a day on every node for nothing. A timer scheduled from another thread still wakes the loop
 * (Netty submits it as a task), and one scheduled on the loop is seen before the loop waits again.
 */
public final class EventLoops {
    /**
     * epoll on Linux, NIO elsewhere or with {@code -Dpullpath.nio=true}: epoll's sockets expose their descriptor,
     * which the ICMP error queue is read from.
     */
    public static final boolean EPOLL = Epoll.isAvailable() && !Boolean.getBoolean("pullpath.nio");

    private EventLoops() {
    }

    /** A group of {@code threads} event loops whose threads are named {@code name}. */
    public static EventLoopGroup group(int threads, String name) {
        return new QuietGroup(threads, name);
    }

    private static final class QuietGroup extends MultiThreadIoEventLoopGroup {
        QuietGroup(int threads, String name) {
            super(threads, new DefaultThreadFactory(name, true),
                    EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        }

        @Override
        protected IoEventLoop newChild(Executor executor, IoHandlerFactory handlers, Object... args) {
            return new QuietLoop(this, executor, handlers);
        }
    }

    private static final class QuietLoop extends SingleThreadIoEventLoop {
        QuietLoop(IoEventLoopGroup parent, Executor executor, IoHandlerFactory handlers) {
            super(parent, executor, handlers);
        }

        /** The next timer's deadline, or -1 with none: epoll then waits without a timeout. */
        @Override
        protected long deadlineNanos() {
            return nextScheduledTaskDeadlineNanos();
        }

        /** Until the next timer, or Long.MAX_VALUE with none: NIO then selects without a timeout. */
        @Override
        protected long delayNanos(long currentTimeNanos) {
            return nextScheduledTaskDeadlineNanos() == -1 ? Long.MAX_VALUE : super.delayNanos(currentTimeNanos);
        }
    }
}
