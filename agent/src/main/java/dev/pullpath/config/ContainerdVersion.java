package dev.pullpath.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The containerd release whose behaviour pullpath models where releases differ: today, how its hosts.toml decoder
 * treats a file. containerd 1.6 and 1.7 before 1.7.32 (go-toml v1) refuse a hosts.toml without any
 * {@code [host."URL"]} table ("invalid `host` tree") and fall back to the default host; 1.7.32 and 2.x read it.
 *
 * @param source where the version came from ({@code --containerd-version}, the config, or "assumed")
 */
public record ContainerdVersion(int major, int minor, int patch, String source) {
    private static final Pattern VERSION = Pattern.compile("(?:containerd://)?v?(\\d{1,3})\\.(\\d{1,3})(?:\\.(\\d{1,4}))?"
            + "(?:[~+-][A-Za-z0-9.~+-]*)?");

    /**
     * When nothing says which release runs: 1.7 before 1.7.32, the stricter decoder and the release most nodes ran
     * when this was written (Debian 12 ships 1.6.20, EKS AMIs 1.7). A report that depends on it says so.
     */
    public static final ContainerdVersion ASSUMED = new ContainerdVersion(1, 7, 0, "assumed");

    /** {@code 1.6.20}, {@code 1.6.20~ds1}, {@code v2.0.0}, {@code containerd://1.7.11} (as a Node's nodeInfo has it). */
    public static ContainerdVersion parse(String text, String source) {
        Matcher m = VERSION.matcher(text == null ? "" : text.strip());
        if (!m.matches()) {
            throw new ConfigException(source + ": '" + dev.pullpath.diagnosis.Redaction.snippet(String.valueOf(text), 40)
                    + "' is not a containerd version (e.g. 1.7.27 or 2.0.0)");
        }
        return new ContainerdVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                m.group(3) == null ? 0 : Integer.parseInt(m.group(3)), source);
    }

    /** containerd 1.6.x and 1.7.0–1.7.31: a hosts.toml without a {@code [host]} table cannot be decoded. */
    public boolean needsHostTable() {
        return major < 1 || (major == 1 && (minor < 7 || (minor == 7 && patch < 32)));
    }

    public boolean assumed() {
        return "assumed".equals(source);
    }

    /** As reports name it: "containerd 1.6.20", or "containerd (assumed 1.7 before 1.7.32)". */
    public String describe() {
        return assumed() ? "containerd (version not known: assumed 1.7 before 1.7.32; set containerdVersion)"
                : "containerd " + major + "." + minor + "." + patch;
    }
}
