package dev.pullpath.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Keeps every core of the machine busy while a test runs: one busy shell loop per core, killed by PID on close.
 * Verdicts that depend on timing (the kernel's error queue against the event loop's wake-ups) must hold here too.
 */
public final class CpuLoad implements AutoCloseable {
    private final List<Process> spinners = new ArrayList<>();

    private CpuLoad(int processes) throws IOException {
        for (int i = 0; i < processes; i++) {
            spinners.add(new ProcessBuilder("sh", "-c", "while :; do :; done").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
        }
    }

    /** One spinner per available core. */
    public static CpuLoad allCores() throws IOException {
        return new CpuLoad(Runtime.getRuntime().availableProcessors());
    }

    public int processes() {
        return spinners.size();
    }

    public boolean running() {
        return spinners.stream().allMatch(Process::isAlive);
    }

    @Override
    public void close() {
        for (Process p : spinners) {
            p.destroyForcibly();
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
