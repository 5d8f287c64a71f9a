package dev.pullpath.config;

import dev.pullpath.files.BoundedFile;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The parts of resolv.conf(5) that decide which names are asked of which servers, read the way glibc and Go do:
 * at most three nameservers, the last {@code search}/{@code domain} line wins, {@code options ndots:N}.
 *
 * @param problem why there are no nameservers (missing or unreadable file), or null
 */
public record ResolvConf(Path path, List<InetSocketAddress> nameservers, List<String> search, int ndots,
                         String problem) {

    static final int MAX_NAMESERVERS = 3;
    private static final long MAX_BYTES = 64 * 1024;

    public ResolvConf {
        nameservers = List.copyOf(nameservers);
        search = List.copyOf(search);
    }

    private static final FileCache<ResolvConf> CACHE = new FileCache<>(ResolvConf::readNow);

    /** The file as it is now; parsed again only when it changed. */
    public static ResolvConf read(Path path) {
        return CACHE.get(path);
    }

    private static ResolvConf readNow(Path path) {
        String text;
        try {
            text = BoundedFile.readString(path, MAX_BYTES, StandardCharsets.ISO_8859_1);
        } catch (BoundedFile.TooLarge e) {
            return new ResolvConf(path, List.of(), List.of(), 1, path + " is larger than 64 KiB; ignored");
        } catch (NoSuchFileException e) {
            return new ResolvConf(path, List.of(), List.of(), 1, path + " does not exist");
        } catch (IOException | SecurityException e) {
            return new ResolvConf(path, List.of(), List.of(), 1, "cannot read " + path + ": " + e.getMessage());
        }
        return parse(path, text);
    }

    static ResolvConf parse(Path path, String text) {
        List<InetSocketAddress> servers = new ArrayList<>();
        List<String> search = List.of();
        int ndots = 1;
        for (String raw : text.split("\n", -1)) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            String[] f = line.split("\\s+");
            switch (f[0]) {
                case "nameserver" -> {
                    if (f.length > 1 && servers.size() < MAX_NAMESERVERS && IpLiterals.isLiteral(f[1])) {
                        servers.add(new InetSocketAddress(IpLiterals.parse(f[1]), 53));
                    }
                }
                case "domain" -> search = f.length > 1 ? List.of(normalize(f[1])) : List.of();
                case "search" -> {
                    List<String> domains = new ArrayList<>();
                    for (int i = 1; i < f.length && domains.size() < 6; i++) {
                        String d = normalize(f[i]);
                        if (!d.isEmpty() && !d.equals(".")) {
                            domains.add(d);
                        }
                    }
                    search = domains;
                }
                case "options" -> {
                    for (int i = 1; i < f.length; i++) {
                        if (f[i].startsWith("ndots:")) {
                            try {
                                ndots = Math.min(15, Math.max(0, Integer.parseInt(f[i].substring(6))));
                            } catch (NumberFormatException ignored) {
                                // glibc ignores a malformed option; so do we
                            }
                        }
                    }
                }
                default -> {
                    // sortlist, lookup and the rest do not change which names are asked
                }
            }
        }
        String problem = servers.isEmpty() ? "no nameserver line in " + path : null;
        return new ResolvConf(path, servers, search, ndots, problem);
    }

    private static String normalize(String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        return d.endsWith(".") ? d.substring(0, d.length() - 1) : d;
    }

    /**
     * The absolute names to try, in order, for {@code host}: a name with at least {@code ndots} dots is tried
     * as is first, then with each search domain; a name with fewer dots the other way round.
     */
    public List<String> candidates(String host) {
        if (host.endsWith(".")) {
            return List.of(host);
        }
        List<String> out = new ArrayList<>();
        long dots = host.chars().filter(c -> c == '.').count();
        boolean asIsFirst = dots >= ndots;
        if (asIsFirst) {
            out.add(host + ".");
        }
        for (String domain : search) {
            out.add(host + "." + domain + ".");
        }
        if (!asIsFirst) {
            out.add(host + ".");
        }
        return out;
    }
}
