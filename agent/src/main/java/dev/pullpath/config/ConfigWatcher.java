package dev.pullpath.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Notices a changed configuration file by its content, not its timestamp: a ConfigMap update arrives as a swap
 * of the {@code ..data} symlink, which leaves the file's own path and often its mtime untouched. The file is small
 * (bounded at 1 MiB), but reading and hashing it every two seconds was the largest part of an idle agent's CPU
 * (bench/cadence.sh), so each period costs one {@code stat} of the file the path leads to (inode, mtime, size: a
 * symlink swap changes the inode) and the content is read only when that changed, or every
 * {@link #READ_EVERY}th period in case a rewrite kept all three.
 */
public final class ConfigWatcher implements AutoCloseable {
    private final Path file;
    private final ConfigLoader loader;
    private final Consumer<AgentConfig> onValid;
    private final Consumer<String> onInvalid;
    private final ScheduledExecutorService timer;
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
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pullpath-config-watch");
            t.setDaemon(true);
            return t;
        });
    }

    public ConfigWatcher start(Duration period) {
        timer.scheduleWithFixedDelay(this::check, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
        return this;
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
            if (Files.size(file) > ConfigLoader.MAX_FILE_BYTES) {
                return ("oversized " + Files.size(file)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            }
            return Files.readAllBytes(file);
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
        timer.shutdownNow();
        try {
            timer.awaitTermination(1, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
