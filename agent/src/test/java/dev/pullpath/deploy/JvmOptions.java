package dev.pullpath.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** deploy/image/jvm.options, the JVM flags both image builds use. */
record JvmOptions(List<String> flags) {
    static final Path FILE = Path.of("..", "deploy", "image", "jvm.options");

    static JvmOptions read() throws IOException {
        return new JvmOptions(Files.readAllLines(FILE).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList());
    }

    /** Heap, metaspace and code cache at their caps: the part of the footprint the flags bound. */
    long cappedBytes() {
        return size("-Xmx") + size("-XX:MaxMetaspaceSize=") + size("-XX:ReservedCodeCacheSize=");
    }

    long size(String prefix) {
        String value = flags.stream().filter(f -> f.startsWith(prefix)).map(f -> f.substring(prefix.length()))
                .findFirst().orElseThrow(() -> new AssertionError("no " + prefix + " in " + FILE));
        long unit = switch (value.toLowerCase(Locale.ROOT).charAt(value.length() - 1)) {
            case 'k' -> 1L << 10;
            case 'm' -> 1L << 20;
            case 'g' -> 1L << 30;
            default -> 1;
        };
        return Long.parseLong(unit == 1 ? value : value.substring(0, value.length() - 1)) * unit;
    }
}
