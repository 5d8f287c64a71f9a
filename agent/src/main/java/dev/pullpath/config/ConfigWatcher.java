package dev.pullpath.config;

import dev.pullpath.files.BoundedFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Notices a changed configuration file by its content, not its timestamp: a ConfigMap update arrives as a swap
 * of the {@code ..data} symlink, which leaves the file's own path and often its mtime untouched. The file is small
 * (bounded at 1 MiB), but reading and hashing it every two seconds was the largest part of an idle agent's CPU
 * (bench/cadence.sh), so each check costs one {@code stat} of the file the path leads to (inode, mtime, size: a
 * symlink swap changes the inode) and the content is read only when that changed, or every
 * {@link #READ_EVERY}th check in case a rewrite kept all three.
 *
 * <p>Checks run when inotify (the JDK's {@link WatchService}) reports a change in the file's directory or in the
 * directory it resolves to (the symlink swap is a rename in the first, an in-place edit a write in the second), and
 * every {@code fallback} period in case it reports nothing (a file system without inotify). Stat-ing every 2 s was
 * still 30–50 ms of CPU in 3 minutes, about 1 ms per probe at 4 targets every 15 s.
 */
public final class ConfigWatcher implements AutoCloseable {
    private final Path file;
    private final ConfigLoader loader;
    private final Consumer<AgentConfig> onValid;
    private final Consumer<String> onInvalid;
    /** After an event, how long to wait for the rest of the same change (an editor writes in several steps). */
    static final long SETTLE_MILLIS = 100;
    private final Set<Path> watched = new HashSet<>();
    private volatile boolean closed;
    private WatchService events;
    private Thread thread;
    /** A full read at least every this many periods, whatever the file's attributes say. */
    static final int READ_EVERY = 15;
    private byte[] lastHash;
    private Stamp lastStamp;
    private int unread;

    private record Stamp(Object fileKey, long modifiedNanos, long size) {
    }

    public ConfigWatcher(Path file, ConfigLoader loader, Consumer<AgentConfig> onValid, Consumer<String> onInvalid) {
        this.file = file;
        this.loader = loader;
        this.onValid = onValid;
        this.onInvalid = onInvalid;
        this.lastStamp = stamp();
        this.lastHash = hash(read());
    }

    /** Checks on every change inotify reports, and at least every {@code fallback}. */
    public synchronized ConfigWatcher start(Duration fallback) {
        try {
            events = file.getFileSystem().newWatchService();
            watchDirectories();
        } catch (IOException | UnsupportedOperationException e) {
            events = null;
        }
        thread = new Thread(() -> run(fallback.toMillis()), "pullpath-config-watch");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    private void run(long fallbackMillis) {
        // The fallback check is due this long after the last check, however many other files' events come between.
        long due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(fallbackMillis);
        while (!closed) {
            try {
                long wait = Math.max(0, TimeUnit.NANOSECONDS.toMillis(due - System.nanoTime()));
                WatchKey key = events == null ? null : events.poll(wait, TimeUnit.MILLISECONDS);
                if (events == null) {
                    Thread.sleep(wait);
                }
                if (key != null) {
                    boolean relevant = drain(key);
                    for (WatchKey more; (more = events.poll()) != null; ) {
                        relevant |= drain(more);
                    }
                    if (!relevant && System.nanoTime() - due < 0) {
                        continue;
                    }
                    Thread.sleep(SETTLE_MILLIS);
                    for (WatchKey more; (more = events.poll()) != null; ) {
                        drain(more);
                    }
                }
                if (closed) {
                    return;
                }
                due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(fallbackMillis);
                check();
                watchDirectories();
            } catch (InterruptedException | java.nio.file.ClosedWatchServiceException e) {
                return;
            } catch (RuntimeException e) {
                onInvalid.accept(file + ": watching the file: " + e);
            }
        }
    }

    /**
     * Whether the events name the file, or the first step of the symlink it is (the {@code ..data} of a ConfigMap
     * volume); other files of the directory (a log, a neighbour's state) are not worth a check.
     */
    private boolean drain(WatchKey key) {
        boolean relevant = false;
        Set<Path> names = interesting();
        for (java.nio.file.WatchEvent<?> e : key.pollEvents()) {
            relevant |= e.kind() == StandardWatchEventKinds.OVERFLOW || names.contains((Path) e.context());
        }
        key.reset();
        return relevant;
    }

    private Set<Path> interesting() {
        Set<Path> names = new HashSet<>();
        Path name = file.getFileName();
        names.add(name);
        try {
            Path target = Files.readSymbolicLink(file);
            if (!target.isAbsolute() && target.getNameCount() > 0) {
                names.add(target.getName(0));
            }
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            // not a symlink (or gone): its own name is enough
        }
        return names;
    }

    /** The file's directory and the one it resolves to now, each registered once. */
    private synchronized void watchDirectories() {
        if (events == null) {
            return;
        }
        Path absolute = file.toAbsolutePath();
        Set<Path> dirs = new HashSet<>();
        if (absolute.getParent() != null) {
            dirs.add(absolute.getParent());
        }
        try {
            Path real = absolute.toRealPath();
            if (real.getParent() != null) {
                dirs.add(real.getParent());
            }
        } catch (IOException | SecurityException e) {
            // gone for now: the first directory's events bring it back
        }
        for (Path dir : dirs) {
            if (watched.contains(dir)) {
                continue;
            }
            try {
                dir.register(events, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                        StandardWatchEventKinds.ENTRY_DELETE);
                watched.add(dir);
            } catch (IOException | SecurityException e) {
                // unwatchable (gone, or no inotify there): the fallback period still checks it
            }
        }
    }

    /** Reloads when the content changed since the last check; each distinct content is judged once. */
    synchronized void check() {
        Stamp stamp = stamp();
        if (stamp != null && stamp.equals(lastStamp) && ++unread < READ_EVERY) {
            return;
        }
        unread = 0;
        lastStamp = stamp;
        byte[] content = read();
        byte[] h = hash(content);
        if (Arrays.equals(h, lastHash)) {
            return;
        }
        lastHash = h;
        if (content == null) {
            onInvalid.accept(file + ": the file disappeared; the running configuration stays");
            return;
        }
        if (new String(content, java.nio.charset.StandardCharsets.UTF_8).isBlank()) {
            // A truncated write or an emptied ConfigMap is not a wish for the built-in defaults.
            onInvalid.accept(file + ": the file is empty; the running configuration stays");
            return;
        }
        try {
            onValid.accept(loader.parse(new String(content, java.nio.charset.StandardCharsets.UTF_8), file));
        } catch (ConfigException e) {
            onInvalid.accept(e.getMessage());
        } catch (RuntimeException e) {
            onInvalid.accept(file + ": " + e);
        }
    }

    /** The attributes of the file the path leads to, or null when it cannot be read (then the content decides). */
    private Stamp stamp() {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return new Stamp(a.fileKey(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), a.size());
        } catch (IOException | SecurityException e) {
            return null;
        }
    }

    private byte[] read() {
        try {
            return BoundedFile.read(file, ConfigLoader.MAX_FILE_BYTES);
        } catch (BoundedFile.TooLarge e) {
            // Its size stands in for its content: a change of size is a change (the loader refuses it anyway).
            return ("oversized " + stamp()).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | SecurityException e) {
            return ("unreadable " + e.getMessage()).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private static byte[] hash(byte[] content) {
        if (content == null) {
            return new byte[0];
        }
        try {
            return MessageDigest.getInstance("SHA-256").digest(content);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Stops watching; a reload in progress finishes first (briefly), so none lands after this returns. */
    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = thread;
            if (events != null) {
                try {
                    events.close();
                } catch (IOException e) {
                    // closing anyway
                }
            }
        }
        if (t == null) {
            return;
        }
        if (events == null) {
            // asleep for the fallback period; with a watch service, closing it above ended the wait (an interrupt
            // could instead land in a read and look like an unreadable file)
            t.interrupt();
        }
        try {
            t.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
