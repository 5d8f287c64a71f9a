package dev.pullpath.probe;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Where probes start (hosts.toml, CA files, credential helpers: blocking work that must not hold an event loop).
 * On demand: a start takes about a millisecond, so at a cadence of seconds one thread does them all and stays, and
 * a second one is made only when every thread is busy (a credential helper blocking), up to {@link #MAX}. Idle
 * threads wait for work in turn (first come, first served), so a thread exits after {@link #IDLE_SECONDS} only when
 * starts come less often than that per idle thread: at 4 targets every 15 s (one start every 3.75 s) one thread
 * stays, where a 60 s idle time kept the 4 made by the first, simultaneous round. A fixed pool of 4 kept 4 threads
 * (a ThreadPoolExecutor below its core size makes a thread for every task even while others are idle).
 */
final class StartPool {
    static final int MAX = 4;
    static final long IDLE_SECONDS = 5;

    private StartPool() {
    }

    static ExecutorService create() {
        // offer() hands a task only to a thread already waiting for one; when none is, the executor makes a new
        // thread (up to MAX), and past MAX the task waits in the queue for the next free thread.
        LinkedTransferQueue<Runnable> queue = new LinkedTransferQueue<>() {
            private static final long serialVersionUID = 1L;

            @Override
            public boolean offer(Runnable task) {
                return tryTransfer(task);
            }
        };
        ThreadPoolExecutor pool = new ThreadPoolExecutor(0, MAX, IDLE_SECONDS, TimeUnit.SECONDS, queue, r -> {
            Thread t = new Thread(r, "pullpath-probe-start");
            t.setDaemon(true);
            return t;
        }, (task, executor) -> {
            if (executor.isShutdown()) {
                throw new RejectedExecutionException("the prober is closed");
            }
            queue.put(task);
        });
        return pool;
    }
}
