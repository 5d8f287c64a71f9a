package dev.pullpath.probe;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The few socket calls Netty does not expose, made on a Netty channel's descriptor through JNA: the ICMP error
 * queue ({@code IP_RECVERR}, {@code recvmsg(MSG_ERRQUEUE)}), the hop limit and the MSS of one attempt.
 *
 * <p>Linux only; elsewhere, or when native access is refused, {@link #available()} is false and callers fall back
 * to what the errno says.
 */
final class NativeSockets {
    static final int SOL_IP = 0;
    static final int SOL_TCP = 6;
    static final int SOL_IPV6 = 41;
    static final int IP_TTL = 2;
    static final int IP_RECVERR = 11;
    static final int TCP_MAXSEG = 2;
    static final int IPV6_UNICAST_HOPS = 16;
    static final int IPV6_RECVERR = 25;
    private static final boolean AVAILABLE = load();

    private NativeSockets() {
    }

    static boolean available() {
        return AVAILABLE;
    }

    /** setsockopt with an int value; false when it could not be set (the option is then left as it was). */
    static boolean setInt(int fd, int level, int option, int value) {
        if (!AVAILABLE || fd < 0) {
            return false;
        }
        try (Memory v = new Memory(4)) {
            v.setInt(0, value);
            return LibC.setsockopt(fd, level, option, v, 4) == 0;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return false;
        }
    }

    static long recvmsg(int fd, Pointer message, int flags) {
        return LibC.recvmsg(fd, message, flags);
    }

    /** A second descriptor for the same socket, or -1: the socket lives until both are closed. */
    static int dup(int fd) {
        if (!AVAILABLE || fd < 0) {
            return -1;
        }
        try {
            return LibC.dup(fd);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return -1;
        }
    }

    /** Closes a descriptor this class made with {@link #dup(int)}; never one a channel owns. */
    static void close(int fd) {
        if (!AVAILABLE || fd < 0) {
            return;
        }
        try {
            LibC.close(fd);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            // nothing more to do: the descriptor is lost with the process at worst
        }
    }

    private static boolean load() {
        if (!Platform.isLinux() || !Platform.is64Bit() || Boolean.getBoolean("pullpath.noIcmpErrorQueue")) {
            return false;
        }
        try {
            Native.register(LibC.class, "c");
            return true;
        } catch (LinkageError | RuntimeException e) {
            return false;
        }
    }

    private static final class LibC {
        static native int setsockopt(int fd, int level, int option, Pointer value, int length);

        static native long recvmsg(int fd, Pointer message, int flags);

        static native int dup(int fd);

        static native int close(int fd);

        private LibC() {
        }
    }
}
