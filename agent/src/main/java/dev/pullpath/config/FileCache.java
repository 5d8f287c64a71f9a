package dev.pullpath.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The parsed form of a small node file (/etc/hosts, /etc/resolv.conf), read again only when the file changes (its
 * inode, size or modification time), as Go's resolver does for the same files. Every probe consults both; reading
 * and parsing them each time cost more CPU than the rest of the DNS hop.
 */
final class FileCache<T> {
    private static final int MAX_ENTRIES = 64;

    private record Stamp(Object fileKey, long size, long modifiedNanos) {
    }

    private record Entry<T>(Stamp stamp, T value) {
    }

    private final Map<Path, Entry<T>> entries = new ConcurrentHashMap<>();
    private final Function<Path, T> reader;

    FileCache(Function<Path, T> reader) {
        this.reader = reader;
    }

    T get(Path path) {
        Stamp stamp = stamp(path);
        if (stamp == null) {
            entries.remove(path);
            return reader.apply(path); // missing or unreadable: the reader says why, every time
        }
        Entry<T> e = entries.get(path);
        if (e != null && e.stamp().equals(stamp)) {
            return e.value();
        }
        T value = reader.apply(path);
        if (entries.size() >= MAX_ENTRIES) {
            entries.clear();
        }
        // Stamped before the read: a change during the read shows as a new stamp on the next call.
        entries.put(path, new Entry<>(stamp, value));
        return value;
    }

    private static Stamp stamp(Path path) {
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            return new Stamp(Objects.requireNonNullElse(a.fileKey(), path), a.size(),
                    a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | SecurityException e) {
            return null;
        }
    }
}
