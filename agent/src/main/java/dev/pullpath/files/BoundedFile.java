package dev.pullpath.files;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a node file (a config, a credential store, a hosts file, a CA bundle, a systemd unit) with a bound on what
 * is read, not on what the file says its size is: {@code Files.size} then {@code readAllBytes} reads without limit
 * a file that grows between the two calls (one being rewritten) and one whose size is not known up front (procfs
 * and sysfs say 0, a FIFO blocks on size). At most {@code max + 1} bytes are ever read.
 */
public final class BoundedFile {
    private BoundedFile() {
    }

    /** The file holds more than the bound; the caller says so in its own words. */
    public static final class TooLarge extends IOException {
        private final long max;

        TooLarge(Path file, long max) {
            super(file + " holds more than " + max + " bytes");
            this.max = max;
        }

        public long max() {
            return max;
        }
    }

    /** All of {@code file}'s bytes when it holds at most {@code max}, else {@link TooLarge}. */
    public static byte[] read(Path file, long max) throws IOException {
        int limit = (int) Math.min(max, Integer.MAX_VALUE - 8);
        try (InputStream in = Files.newInputStream(file)) {
            byte[] data = in.readNBytes(limit + 1);
            if (data.length > limit) {
                throw new TooLarge(file, max);
            }
            return data;
        }
    }

    /**
     * The file as text, decoded strictly as {@link Files#readString(Path, Charset)} does (malformed input is a
     * {@link java.nio.charset.CharacterCodingException}, not replaced), when it holds at most {@code max} bytes.
     */
    public static String readString(Path file, long max, Charset charset) throws IOException {
        return charset.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(read(file, max)))
                .toString();
    }
}
