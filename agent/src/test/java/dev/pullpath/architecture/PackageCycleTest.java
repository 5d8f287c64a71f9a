package dev.pullpath.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No two packages of dev.pullpath depend on each other, directly or through others. The dependencies are read
 * from the main sources: every import and every fully qualified {@code dev.pullpath.x.} name in code.
 */
class PackageCycleTest {
    private static final Path MAIN = Path.of("src/main/java/dev/pullpath");
    private static final Pattern REFERENCE = Pattern.compile("\\bdev\\.pullpath\\.([a-z][a-z0-9]*)\\.");

    @Test
    void thePackagesOfPullpathFormNoCycle() throws IOException {
        Map<String, Set<String>> deps = dependencies();
        assertTrue(deps.keySet().containsAll(List.of("config", "credentials", "probe", "diagnosis", "gocompat")),
                "the scan found the packages: " + deps.keySet());
        List<String> cycles = new ArrayList<>();
        for (String from : deps.keySet()) {
            for (String to : deps.get(from)) {
                if (from.compareTo(to) < 0 && reaches(deps, to, from, new TreeSet<>())) {
                    cycles.add(from + " <-> " + to);
                }
            }
        }
        assertEquals(List.of(), cycles, "package dependencies: " + deps);
    }

    @Test
    void gocompatIsALeafAndConfigDoesNotUseCredentials() throws IOException {
        Map<String, Set<String>> deps = dependencies();
        assertEquals(Set.of(), deps.get("gocompat"));
        assertTrue(!deps.get("credentials").contains("config"), "credentials -> " + deps.get("credentials"));
        // config holds settings (CredentialSettings); the stores are built from them by the prober.
        assertTrue(!deps.get("config").contains("credentials"), "config -> " + deps.get("config"));
    }

    /** The cycle finder itself: a two-package loop through a third is found. */
    @Test
    void aCycleThroughAThirdPackageIsFound() {
        Map<String, Set<String>> deps = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"));
        assertTrue(reaches(deps, "b", "a", new TreeSet<>()));
        assertTrue(!reaches(Map.of("a", Set.of("b"), "b", Set.of()), "b", "a", new TreeSet<>()));
    }

    private static boolean reaches(Map<String, Set<String>> deps, String from, String to, Set<String> seen) {
        if (from.equals(to)) {
            return true;
        }
        if (!seen.add(from)) {
            return false;
        }
        for (String next : deps.getOrDefault(from, Set.of())) {
            if (reaches(deps, next, to, seen)) {
                return true;
            }
        }
        return false;
    }

    /** Package (first segment below dev.pullpath; the root package is "") to the packages its code names. */
    private static Map<String, Set<String>> dependencies() throws IOException {
        Map<String, Set<String>> deps = new TreeMap<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                Path rel = MAIN.relativize(f);
                String pkg = rel.getNameCount() == 1 ? "" : rel.getName(0).toString();
                Set<String> to = deps.computeIfAbsent(pkg, k -> new TreeSet<>());
                String code = Files.readString(f).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "");
                Matcher m = REFERENCE.matcher(code);
                while (m.find()) {
                    String target = m.group(1);
                    boolean isClass = Character.isUpperCase(target.charAt(0));
                    if (!isClass && !target.equals(pkg)) {
                        to.add(target);
                    }
                }
            }
        }
        return deps;
    }
}
