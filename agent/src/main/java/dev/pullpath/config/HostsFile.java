package dev.pullpath.config;

import dev.pullpath.files.BoundedFile;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * hosts(5), consulted before DNS as Go's resolver does with the default {@code files dns} order. Malformed lines
 * are skipped, as glibc and Go skip them: a hostile line costs nothing but itself.
 */
public final class HostsFile {
    private static final long MAX_BYTES = 1024 * 1024;

    /** The addresses a name maps to and the first line that says so. */
    public record Match(List<InetAddress> addresses, int lineNumber, String line) {
    }

    private final Path path;
    private final List<String> lines;
    private final String problem;

    private HostsFile(Path path, List<String> lines, String problem) {
        this.path = path;
        this.lines = lines;
        this.problem = problem;
    }

    private static final FileCache<HostsFile> CACHE = new FileCache<>(HostsFile::readNow);

    /** The file as it is now; parsed again only when it changed. */
    public static HostsFile read(Path path) {
        return CACHE.get(path);
    }

    private static HostsFile readNow(Path path) {
        try {
            return new HostsFile(path,
                    BoundedFile.readString(path, MAX_BYTES, StandardCharsets.ISO_8859_1).lines().toList(), null);
        } catch (BoundedFile.TooLarge e) {
            return new HostsFile(path, List.of(), path + " is larger than 1 MiB; ignored");
        } catch (NoSuchFileException e) {
            return new HostsFile(path, List.of(), null);
        } catch (IOException | SecurityException e) {
            return new HostsFile(path, List.of(), "cannot read " + path + ": " + e.getMessage());
        }
    }

    public Path path() {
        return path;
    }

    /** Why the file could not be used, or null. */
    public String problem() {
        return problem;
    }

    /** All addresses for {@code host} (case-insensitive, trailing dot ignored), or null when none. */
    public Match lookup(String host) {
        String wanted = host.toLowerCase(Locale.ROOT);
        if (wanted.endsWith(".")) {
            wanted = wanted.substring(0, wanted.length() - 1);
        }
        List<InetAddress> found = new ArrayList<>();
        int firstLine = 0;
        String first = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            String content = (hash >= 0 ? line.substring(0, hash) : line).strip();
            if (content.isEmpty()) {
                continue;
            }
            String[] f = content.split("\\s+");
            if (f.length < 2 || !IpLiterals.isLiteral(f[0])) {
                continue;
            }
            for (int j = 1; j < f.length; j++) {
                String name = f[j].toLowerCase(Locale.ROOT);
                if (name.endsWith(".")) {
                    name = name.substring(0, name.length() - 1);
                }
                if (name.equals(wanted)) {
                    InetAddress a = IpLiterals.parse(f[0]);
                    if (!found.contains(a)) {
                        found.add(a);
                    }
                    if (first == null) {
                        firstLine = i + 1;
                        first = content;
                    }
                    break;
                }
            }
        }
        return found.isEmpty() ? null : new Match(List.copyOf(found), firstLine, first);
    }
}
