package dev.pullpath.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration watcher as the kubelet and an operator change the file; each check is one timer period. */
class ConfigWatcherTest {
    private final ConfigLoader loader = new ConfigLoader(Map.<String, String>of()::get);
    private final List<AgentConfig> loaded = new ArrayList<>();
    private final List<String> refused = new ArrayList<>();

    private static String config(String target) {
        return "interval: 30s\ntargets:\n  - name: reg\n    url: https://" + target + "\n";
    }

    @Test
    @DisplayName("ConfigMap update: the ..data symlink swapped to a new directory → reloaded at the next check, once")
    void configMapSymlinkSwap(@TempDir Path dir) throws Exception {
        // The kubelet's layout: config.yaml -> ..data/config.yaml, ..data -> ..2026_1; an update writes ..2026_2
        // and renames a new ..data link over the old one.
        Files.createDirectories(dir.resolve("..2026_1"));
        Files.writeString(dir.resolve("..2026_1/config.yaml"), config("one.example"));
        Files.createSymbolicLink(dir.resolve("..data"), Path.of("..2026_1"));
        Path file = Files.createSymbolicLink(dir.resolve("config.yaml"), Path.of("..data/config.yaml"));
        FileTime sameTime = Files.getLastModifiedTime(dir.resolve("..2026_1/config.yaml"));
        try (ConfigWatcher w = new ConfigWatcher(file, loader, loaded::add, refused::add)) {
            w.check();
            assertTrue(loaded.isEmpty(), "an unchanged file is not reloaded");

            Files.createDirectories(dir.resolve("..2026_2"));
            Files.writeString(dir.resolve("..2026_2/config.yaml"), config("two.example"));
            Files.setLastModifiedTime(dir.resolve("..2026_2/config.yaml"), sameTime);
            Files.createSymbolicLink(dir.resolve("..data_tmp"), Path.of("..2026_2"));
            Files.move(dir.resolve("..data_tmp"), dir.resolve("..data"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            w.check();
            assertEquals(1, loaded.size(), "the swap is seen at the first check after it");
            assertEquals("two.example", loaded.get(0).targets().get(0).target().host());
            for (int i = 0; i < 2 * ConfigWatcher.READ_EVERY; i++) {
                w.check();
            }
            assertEquals(1, loaded.size(), "the same content is judged once");
            assertTrue(refused.isEmpty(), refused.toString());
        }
    }

    @Test
    @DisplayName("in-place rewrite keeping size and mtime → still reloaded, within READ_EVERY checks")
    void rewriteThatKeepsEveryAttribute(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("config.yaml"), config("aaa.example"));
        FileTime time = Files.getLastModifiedTime(file);
        try (ConfigWatcher w = new ConfigWatcher(file, loader, loaded::add, refused::add)) {
            Files.writeString(file, config("bbb.example"));
            Files.setLastModifiedTime(file, time);
            for (int i = 0; i < ConfigWatcher.READ_EVERY && loaded.isEmpty(); i++) {
                w.check();
            }
            assertEquals(1, loaded.size(), "the periodic full read notices what the attributes hide");
        }
    }

    @Test
    @DisplayName("file emptied, then deleted → refused each time, the running configuration stays")
    void emptiedThenDeleted(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("config.yaml"), config("aaa.example"));
        try (ConfigWatcher w = new ConfigWatcher(file, loader, loaded::add, refused::add)) {
            Files.writeString(file, "");
            w.check();
            Files.delete(file);
            w.check();
            assertTrue(loaded.isEmpty());
            assertEquals(2, refused.size(), refused.toString());
            assertTrue(refused.get(0).contains("empty") && refused.get(1).contains("disappeared"), refused.toString());
        }
    }

    @Test
    @DisplayName("started with an hour's fallback: a ConfigMap swap is reloaded on inotify's word in seconds; a "
            + "neighbour file's writes are not")
    void inotifyWithoutPolling(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("..2026_1"));
        Files.writeString(dir.resolve("..2026_1/config.yaml"), config("one.example"));
        Files.createSymbolicLink(dir.resolve("..data"), Path.of("..2026_1"));
        Path file = Files.createSymbolicLink(dir.resolve("config.yaml"), Path.of("..data/config.yaml"));
        List<AgentConfig> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (ConfigWatcher w = new ConfigWatcher(file, loader, seen::add, refused::add)
                .start(java.time.Duration.ofHours(1))) {
            for (int i = 0; i < 5; i++) {
                Files.writeString(dir.resolve("neighbour.log"), "line " + i + "\n",
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                Thread.sleep(20);
            }
            Files.createDirectories(dir.resolve("..2026_2"));
            Files.writeString(dir.resolve("..2026_2/config.yaml"), config("two.example"));
            Files.createSymbolicLink(dir.resolve("..data_tmp"), Path.of("..2026_2"));
            Files.move(dir.resolve("..data_tmp"), dir.resolve("..data"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            long until = System.nanoTime() + 5_000_000_000L;
            while (seen.isEmpty() && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            assertEquals(1, seen.size(), "the swap was reloaded once, without waiting for the fallback period");
            assertEquals("two.example", seen.get(0).targets().get(0).target().host());
        }
        assertTrue(refused.isEmpty(), refused.toString());
    }
}
