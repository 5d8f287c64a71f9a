package dev.pullpath.credentials;

import static dev.pullpath.credentials.ProviderConfig.*;

import dev.pullpath.diagnosis.Redaction;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** Helpers for running a provider binary: bounded reading of its output, killing it and what it started. */
final class PluginProcess {
    private PluginProcess() {
    }

    static final int MAX_OUTPUT = 64 * 1024;
    /** {@link Redaction#snippet} appends "..." when it cuts, so 297 keeps the shown stderr within 300 characters. */
    static final int MAX_STDERR_SHOWN = 297;

    /**
     * Kill the provider and everything it started: its current children are listed before it dies (they are
     * re-parented after), and those seen earlier are added; handles check start times, so a reused pid is safe.
     */
    static void killTree(Process proc, Set<ProcessHandle> seen) {
        for (int round = 0; round < 3; round++) {
            List<ProcessHandle> children = new ArrayList<>(proc.descendants().toList());
            proc.destroyForcibly();
            children.forEach(ProcessHandle::destroyForcibly);
            if (children.stream().noneMatch(ProcessHandle::isAlive)) {
                break;
            }
        }
        seen.forEach(ProcessHandle::destroyForcibly);
        try {
            proc.waitFor(200, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true); // a reader stuck on a pipe held by an escaped grandchild must not keep the JVM alive
        t.start();
        return t;
    }

    /**
     * Reads a stream to its end keeping the first 64 KiB: draining the rest means a chatty provider never blocks on
     * a full pipe (the kubelet buffers all of it), and nothing unbounded is held or written to disk.
     */
    static final class Drain implements Runnable {
        private final InputStream in;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private boolean overflowed;

        Drain(InputStream in) {
            this.in = in;
        }

        @Override
        public void run() {
            byte[] buf = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    synchronized (this) {
                        int room = MAX_OUTPUT - kept.size();
                        kept.write(buf, 0, Math.min(room, n));
                        if (n > room) {
                            overflowed = true;
                        }
                    }
                }
            } catch (IOException ignored) {
                // the process was killed or closed the pipe: what was read is what there is
            }
        }

        synchronized byte[] bytes() {
            return kept.toByteArray();
        }

        synchronized boolean overflowed() {
            return overflowed;
        }
    }

    static String stderr(Drain err) {
        String text = new String(err.bytes(), StandardCharsets.UTF_8);
        String s = Redaction.snippet(text, MAX_STDERR_SHOWN);
        return s == null || s.isEmpty() ? "" : ": " + s;
    }

}
