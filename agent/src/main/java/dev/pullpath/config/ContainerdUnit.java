package dev.pullpath.config;

import dev.pullpath.files.BoundedFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The environment systemd gives containerd, read from the node's unit files: containerd takes its proxy
 * (HTTPS_PROXY, NO_PROXY) from there, not from any pod's environment. Read as systemd combines them: the unit file
 * of the highest-priority directory ({@code /etc} over {@code /run} over {@code /usr/lib} and {@code /lib}), then the
 * drop-ins {@code containerd.service.d/*.conf} and {@code service.d/*.conf} of every directory in file-name order
 * (a name in a higher-priority directory masks the same name below), {@code Environment=} assignments in order, an
 * empty one resetting the list, and {@code EnvironmentFile=} files overriding them.
 *
 * <p>Paths inside unit files are the host's, so they are read under {@code root} (the host's root as mounted in the
 * pod, e.g. {@code /host}). Every file read is bounded; what cannot be read or parsed becomes a note, never an error:
 * the agent then falls back to its own environment and says so.
 *
 * @param vars   the environment the unit sets (only what the unit files set, not systemd's defaults)
 * @param origin for each variable, the file that set it last (a host path, as the SRE would open it)
 * @param files  the unit files read, in the order applied
 * @param notes  what could not be read, or was skipped
 */
public record ContainerdUnit(Map<String, String> vars, Map<String, String> origin, List<String> files,
                             List<String> notes) {
    static final List<String> UNIT_DIRS = List.of("/etc/systemd/system", "/run/systemd/system",
            "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system");
    private static final String UNIT = "containerd.service";
    private static final long MAX_FILE = 64 * 1024;
    private static final int MAX_DROP_INS = 64;

    public ContainerdUnit {
        vars = Map.copyOf(vars);
        origin = Map.copyOf(origin);
        files = List.copyOf(files);
        notes = List.copyOf(notes);
    }

    /** containerd's unit under {@code root}, or empty when no unit file or drop-in of it exists there. */
    public static Optional<ContainerdUnit> read(Path root) {
        List<String> files = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        String mainUnit = null;
        for (String dir : UNIT_DIRS) {
            if (Files.isRegularFile(under(root, dir + "/" + UNIT))) {
                mainUnit = dir + "/" + UNIT;
                break;
            }
        }
        if (mainUnit != null) {
            files.add(mainUnit);
        }
        // Drop-ins by file name: the generic service.d first, then containerd's own, higher directories masking.
        for (String dropDir : List.of("service.d", UNIT + ".d")) {
            Map<String, String> byName = new TreeMap<>();
            for (int i = UNIT_DIRS.size() - 1; i >= 0; i--) {
                String dir = UNIT_DIRS.get(i) + "/" + dropDir;
                for (String name : confFiles(under(root, dir), notes)) {
                    byName.put(name, dir + "/" + name);
                }
            }
            byName.values().stream().limit(MAX_DROP_INS).forEach(files::add);
        }
        if (files.isEmpty()) {
            return Optional.empty();
        }
        Map<String, String> vars = new LinkedHashMap<>();
        Map<String, String> origin = new LinkedHashMap<>();
        List<EnvironmentFile> environmentFiles = new ArrayList<>();
        for (String file : files) {
            String text = readBounded(under(root, file), file, notes);
            if (text != null) {
                apply(text, file, vars, origin, environmentFiles, notes);
            }
        }
        for (EnvironmentFile ef : environmentFiles) {
            boolean optional = ef.value().startsWith("-");
            String path = optional ? ef.value().substring(1) : ef.value();
            Path p = under(root, path);
            if (!Files.isRegularFile(p)) {
                if (!optional) {
                    notes.add(ef.namedIn() + ": EnvironmentFile=" + path + " is not under " + root + " (mount it read-only "
                            + "to read it; on the node, systemd does not start containerd without it)");
                }
                continue;
            }
            String text = readBounded(p, path, notes);
            if (text != null) {
                SystemdSyntax.environmentFile(text).forEach((k, v) -> {
                    vars.put(k, v);
                    origin.put(k, path);
                });
            }
        }
        return Optional.of(new ContainerdUnit(vars, origin, files, notes));
    }

    /** An {@code EnvironmentFile=} value (a leading {@code -}: optional) and the unit file that named it. */
    record EnvironmentFile(String value, String namedIn) {
    }

    /** The {@code [Service]} section's Environment= and EnvironmentFile= lines of one unit file, in order. */
    static void apply(String text, String file, Map<String, String> vars, Map<String, String> origin,
                      List<EnvironmentFile> environmentFiles, List<String> notes) {
        String section = "";
        for (String line : logicalLines(text)) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#") || l.startsWith(";")) {
                continue;
            }
            if (l.startsWith("[") && l.endsWith("]")) {
                section = l.substring(1, l.length() - 1);
                continue;
            }
            int eq = l.indexOf('=');
            if (!section.equals("Service") || eq < 0) {
                continue;
            }
            String key = l.substring(0, eq).strip();
            String value = l.substring(eq + 1).strip();
            if (key.equals("Environment")) {
                if (value.isEmpty()) {
                    // An empty assignment resets the list built so far, other files' included.
                    vars.clear();
                    origin.clear();
                    continue;
                }
                List<String> words;
                try {
                    words = SystemdSyntax.words(value);
                } catch (IllegalArgumentException e) {
                    notes.add(file + ": Environment= ignored by systemd: " + e.getMessage());
                    continue;
                }
                for (String word : words) {
                    int at = word.indexOf('=');
                    if (at <= 0) {
                        notes.add(file + ": Environment= word without '=' ignored");
                        continue;
                    }
                    vars.put(word.substring(0, at), word.substring(at + 1));
                    origin.put(word.substring(0, at), file);
                }
            } else if (key.equals("EnvironmentFile")) {
                if (value.isEmpty()) {
                    environmentFiles.clear();
                } else {
                    environmentFiles.add(new EnvironmentFile(value, file));
                }
            }
        }
    }

    /** Lines joined where one ends with a backslash, as systemd reads unit files. */
    private static List<String> logicalLines(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String raw : text.split("\n", -1)) {
            String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
            String stripped = line.stripLeading();
            if (current.length() > 0 && (stripped.startsWith("#") || stripped.startsWith(";"))) {
                continue; // comment lines inside a continuation are skipped
            }
            if (line.endsWith("\\")) {
                current.append(line, 0, line.length() - 1).append(' ');
            } else {
                current.append(line);
                out.add(current.toString());
                current.setLength(0);
            }
        }
        if (current.length() > 0) {
            out.add(current.toString());
        }
        return out;
    }

    private static List<String> confFiles(Path dir, List<String> notes) {
        List<String> names = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return names;
        }
        try (DirectoryStream<Path> found = Files.newDirectoryStream(dir, "*.conf")) {
            for (Path p : found) {
                names.add(p.getFileName().toString());
            }
        } catch (IOException | SecurityException e) {
            notes.add(dir + ": cannot be listed (" + e.getClass().getSimpleName() + ")");
        }
        return names;
    }

    private static String readBounded(Path p, String shown, List<String> notes) {
        try {
            return new String(BoundedFile.read(p, MAX_FILE), StandardCharsets.UTF_8);
        } catch (BoundedFile.TooLarge e) {
            notes.add(shown + ": larger than 64 KiB, not read");
            return null;
        } catch (IOException | SecurityException e) {
            notes.add(shown + ": cannot be read (" + e.getClass().getSimpleName() + ")");
            return null;
        }
    }

    private static Path under(Path root, String hostPath) {
        return root.resolve(hostPath.startsWith("/") ? hostPath.substring(1) : hostPath);
    }

    /**
     * The proxy containerd uses, from this unit's environment as Go's {@code FromEnvironment} reads it, with the
     * unit file named as its source.
     */
    public ProxySettings proxies() {
        ProxySettings s = ProxySettings.fromEnvironment(vars::get);
        String source = s.proxySource() == null ? null
                : "containerd's " + s.proxySource() + " in " + origin.getOrDefault(s.proxySource(), "its unit");
        return new ProxySettings(s.httpsProxy(), source, s.noProxy(), s.problems());
    }

    /**
     * The proxy a pull on this node goes through, the one place that chooses its source: containerd's unit under
     * {@code root} when it is given and found (whether or not it sets a proxy: then none), else the agent's own
     * environment. Its problems say which source was used when the unit was asked for, and where the agent's own
     * environment disagrees with containerd's (the agent's traffic and the kubelet's may go elsewhere than pulls).
     */
    public static ProxySettings proxies(Path root, Function<String, String> env) {
        ProxySettings own = ProxySettings.fromEnvironment(env);
        if (root == null) {
            return own;
        }
        Optional<ContainerdUnit> unit = read(root);
        if (unit.isEmpty()) {
            return with(own, List.of("no containerd unit file under " + root + " (" + UNIT_DIRS.get(0) + "/" + UNIT
                    + ".d, " + UNIT_DIRS.get(3) + "): the agent's own environment is used as containerd's proxy"));
        }
        ProxySettings theirs = unit.get().proxies();
        List<String> notes = new ArrayList<>(unit.get().notes());
        boolean sameProxy = Objects.equals(own.httpsProxy(), theirs.httpsProxy());
        boolean sameNoProxy = own.noProxy().raw().equals(theirs.noProxy().raw());
        if (!sameProxy || !sameNoProxy) {
            notes.add("containerd's unit (" + String.join(", ", unit.get().files()) + ") has " + theirs.describe()
                    + ", the agent's own environment " + own.describe()
                    + ": pulls go containerd's way, and pullpath walks that");
        }
        return with(theirs, notes);
    }

    private static ProxySettings with(ProxySettings s, List<String> notes) {
        List<String> all = new ArrayList<>(s.problems());
        all.addAll(notes);
        return new ProxySettings(s.httpsProxy(), s.proxySource(), s.noProxy(), all);
    }
}
