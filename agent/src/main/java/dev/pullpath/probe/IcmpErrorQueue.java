package dev.pullpath.probe;

import com.sun.jna.Memory;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The ICMP error behind a failed connect, read from the socket's error queue. Linux reports ICMP
 * administratively-prohibited and host-unreachable alike as EHOSTUNREACH; with {@code IP_RECVERR} /
 * {@code IPV6_RECVERR} set, the queue keeps the ICMP type, code and the address of the hop that sent it, which
 * tells a firewall's reject apart from a routing failure and names the rejecting hop (ip(7), ipv6(7)).
 *
 * <p>Linux only, through JNA; elsewhere, or when the native call cannot be made, {@link #available()} is false and
 * the errno alone classifies.
 */
final class IcmpErrorQueue {
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_ERRQUEUE = 0x2000;
    private static final int SO_EE_ORIGIN_ICMP = 2;
    private static final int SO_EE_ORIGIN_ICMP6 = 3;

    /** What the queue held: the ICMP message and who sent it. */
    record IcmpError(boolean v6, int type, int code, InetAddress offender) {

        boolean adminProhibited() {
            return v6 ? type == 1 && (code == 1 || code == 5 || code == 6) : type == 3 && (code == 9 || code == 10
                    || code == 13);
        }

        boolean hostUnreachable() {
            return v6 ? type == 1 && code == 3 : type == 3 && code == 1;
        }

        boolean networkUnreachable() {
            return v6 ? type == 1 && code == 0 : type == 3 && code == 0;
        }

        /** TTL / hop limit exceeded in transit: what a traceroute's hop answers. */
        boolean timeExceeded() {
            return v6 ? type == 3 && code == 0 : type == 11 && code == 0;
        }

        boolean portUnreachable() {
            return v6 ? type == 1 && code == 4 : type == 3 && code == 3;
        }

        String describe() {
            String what = adminProhibited() ? "administratively prohibited" : hostUnreachable() ? "host unreachable"
                    : networkUnreachable() ? "network unreachable" : portUnreachable() ? "port unreachable"
                    : timeExceeded() ? "time exceeded" : "destination unreachable";
            return "ICMP" + (v6 ? "v6 " : " ") + what + " (type " + type + " code " + code + ")";
        }
    }

    private IcmpErrorQueue() {
    }

    static boolean available() {
        return NativeSockets.available();
    }

    /** Asks the kernel to queue ICMP errors on this socket; both families, for dual-stack sockets. */
    static void enable(int fd) {
        setRecvErr(fd, 1);
    }

    /** Stops queueing ICMP errors on a connected socket: only the connect attempt needed them. */
    static void disable(int fd) {
        setRecvErr(fd, 0);
    }

    private static void setRecvErr(int fd, int value) {
        // without it the errno alone classifies; the connection works either way
        NativeSockets.setInt(fd, NativeSockets.SOL_IP, NativeSockets.IP_RECVERR, value);
        NativeSockets.setInt(fd, NativeSockets.SOL_IPV6, NativeSockets.IPV6_RECVERR, value);
    }

    /**
     * Whether an ICMP message can be behind this connect error: EHOSTUNREACH, ENETUNREACH and EACCES/EPROTO are
     * what the kernel reports for a destination-unreachable or time-exceeded; a timeout or a reset is not.
     */
    static boolean mayFollow(Throwable cause) {
        String m = String.valueOf(cause == null ? null : cause.getMessage()).toLowerCase(java.util.Locale.ROOT);
        return cause instanceof java.net.NoRouteToHostException || m.contains("no route to host")
                || m.contains("network is unreachable") || m.contains("permission denied")
                || m.contains("protocol error");
    }

    /** The queued ICMP error, or null when there is none (or it cannot be read). Never blocks. */
    static IcmpError read(int fd) {
        if (!NativeSockets.available() || fd < 0) {
            return null;
        }
        try (Memory msg = new Memory(56); Memory iov = new Memory(16); Memory data = new Memory(64);
             Memory control = new Memory(512); Memory name = new Memory(128)) {
            msg.clear();
            iov.setPointer(0, data);
            iov.setLong(8, data.size());
            msg.setPointer(0, name);
            msg.setInt(8, (int) name.size());
            msg.setPointer(16, iov);
            msg.setLong(24, 1);
            msg.setPointer(32, control);
            msg.setLong(40, control.size());
            long n = NativeSockets.recvmsg(fd, msg, MSG_ERRQUEUE | MSG_DONTWAIT);
            if (n < 0) {
                return null;
            }
            long controlLength = Math.min(msg.getLong(40), control.size());
            long offset = 0;
            while (offset + 16 <= controlLength) {
                long cmsgLen = control.getLong(offset);
                int level = control.getInt(offset + 8);
                int type = control.getInt(offset + 12);
                if (cmsgLen < 16 || offset + cmsgLen > controlLength) {
                    return null;
                }
                boolean v4 = level == NativeSockets.SOL_IP && type == NativeSockets.IP_RECVERR;
                boolean v6 = level == NativeSockets.SOL_IPV6 && type == NativeSockets.IPV6_RECVERR;
                if ((v4 || v6) && cmsgLen >= 16 + 16) {
                    long ee = offset + 16;
                    int origin = control.getByte(ee + 4) & 0xff;
                    if (origin == SO_EE_ORIGIN_ICMP || origin == SO_EE_ORIGIN_ICMP6) {
                        int icmpType = control.getByte(ee + 5) & 0xff;
                        int icmpCode = control.getByte(ee + 6) & 0xff;
                        InetAddress offender = offender(control, ee + 16, offset + cmsgLen);
                        return new IcmpError(origin == SO_EE_ORIGIN_ICMP6, icmpType, icmpCode, offender);
                    }
                }
                offset += (cmsgLen + 7) & ~7L;
            }
            return null;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return null;
        }
    }

    /** SO_EE_OFFENDER: the sockaddr right after sock_extended_err. */
    private static InetAddress offender(Memory control, long at, long end) {
        try {
            if (at + 8 > end) {
                return null;
            }
            int family = control.getShort(at) & 0xffff;
            if (family == 2 && at + 8 <= end) {
                return InetAddress.getByAddress(control.getByteArray(at + 4, 4));
            }
            if (family == 10 && at + 24 <= end) {
                return InetAddress.getByAddress(control.getByteArray(at + 8, 16));
            }
            return null;
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
