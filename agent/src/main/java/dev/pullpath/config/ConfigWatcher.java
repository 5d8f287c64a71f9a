package dev.pullpath.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
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
 * (bounded at 1 MiB), so reading and hashing it every few seconds costs nothing.
 */
public final class ConfigWatcher implements AutoCloseable {
    private final Path file;
    private final ConfigLoader loader;
    private final Consumer<AgentConfig> onValid;
    private final Consumer<String> onInvalid;
    private final ScheduledExecutorService timer;
    private byte[] lastHash;

    public ConfigWatcher(Path file, ConfigLoader loader, Consumer<AgentConfig> onValid, Consumer<String> onInvalid) {
        this.file = file;
        this.loader = loader;
        this.onValid = onValid;
        this.onInvalid = onInvalid;
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
