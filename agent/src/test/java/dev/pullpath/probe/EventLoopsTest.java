package dev.pullpath.probe;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * An agent's event loops are idle nearly all the time: idle, they must not wake, and a timer must still fire when it
 * is due, whichever thread scheduled it. Wake-ups are counted by the kernel (the loop thread's voluntary context
 * switches in /proc), not by the code under test.
 */
class EventLoopsTest {
    private EventLoopGroup group;

    @AfterEach
    void close() {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    @Test
    @DisplayName("an idle loop with nothing scheduled sleeps: at most one wake-up in 3 s (Netty's own loop wakes every "
            + "second)")
    void anIdleLoopDoesNotWake() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "needs Linux's /proc to count wake-ups");
        group = EventLoops.group(1, "quiet-idle");
        EventLoop loop = group.next();
        String name = loop.submit(() -> Thread.currentThread().getName()).get(5, TimeUnit.SECONDS);
        Path task = taskOf(name);
        Thread.sleep(200); // the loop settles into its wait
        long before = wakeups(task);
        Thread.sleep(3_000);
        long woke = wakeups(task) - before;
        assertTrue(woke <= 1, name + " woke " + woke + " times in 3 s with nothing to do");
    }

    @Test
    @DisplayName("a sleeping loop runs a timer scheduled from another thread, and one it scheduled itself, when due")
    void timersStillFireOnTime() throws Exception {
        group = EventLoops.group(1, "quiet-timers");
        EventLoop loop = group.next();
        loop.submit(() -> { }).get(5, TimeUnit.SECONDS);
        Thread.sleep(300); // asleep with no timer
        long start = System.nanoTime();
        CompletableFuture<Long> fromOutside = new CompletableFuture<>();
        loop.schedule(() -> fromOutside.complete(System.nanoTime()), 400, TimeUnit.MILLISECONDS);
        long outsideMs = (fromOutside.get(5, TimeUnit.SECONDS) - start) / 1_000_000;
        assertTrue(outsideMs >= 390 && outsideMs < 900, "a 400 ms timer from another thread fired after " + outsideMs
                + " ms");

        Thread.sleep(300);
        CompletableFuture<Long> fromInside = new CompletableFuture<>();
        long inside = System.nanoTime();
        loop.execute(() -> loop.schedule(() -> fromInside.complete(System.nanoTime()), 300, TimeUnit.MILLISECONDS));
        long insideMs = (fromInside.get(5, TimeUnit.SECONDS) - inside) / 1_000_000;
        assertTrue(insideMs >= 290 && insideMs < 800, "a 300 ms timer from the loop fired after " + insideMs + " ms");
    }

    /** The /proc entry of the thread named {@code name} (its first 15 characters, as the kernel keeps it). */
    private static Path taskOf(String name) throws IOException {
        String comm = name.length() > 15 ? name.substring(0, 15) : name;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            List<Path> found = tasks.filter(t -> {
                try {
                    return Files.readString(t.resolve("comm")).strip().equals(comm);
                } catch (IOException e) {
                    return false;
                }
            }).toList();
            assertTrue(found.size() == 1, "one thread named " + comm + ": " + found);
            return found.get(0);
        }
    }

    private static long wakeups(Path task) throws IOException {
        for (String line : Files.readAllLines(task.resolve("status"))) {
            if (line.startsWith("voluntary_ctxt_switches:")) {
                return Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
            }
        }
        throw new IllegalStateException("no voluntary_ctxt_switches in " + task);
    }
}
