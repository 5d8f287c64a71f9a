package dev.pullpath.gocompat;

import java.util.Arrays;

/** netip.ParseAddr and net.ParseIP. An address is its 16-byte form, with IPv4 as IPv4-mapped, like net.IP.Equal. */
public final class NetIp {
    private NetIp() {
    }

    public record Addr(byte[] b16, boolean is4, boolean zoned) {
    }

    /** net.ParseIP: netip.ParseAddr without a zone. */
    public static byte[] parseIp(String s) {
        Addr a = parseAddr(s);
        return a == null || a.zoned() ? null : a.b16();
    }

    /** netip.ParseAddr: the first '.' or ':' picks the family. IPv4 is strict (no leading zeros). A zone is allowed on IPv6. */
    public static Addr parseAddr(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '.') {
                byte[] v4 = parseV4(s);
                return v4 == null ? null : new Addr(mapped(v4), true, false);
            }
            if (c == ':') {
                return parseV6(s);
            }
            if (c == '%') {
                return null;
            }
        }
        return null;
    }

    private static byte[] parseV4(String s) {
        byte[] fields = new byte[4];
        int val = 0;
        int pos = 0;
        int digLen = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') {
                if (digLen == 1 && val == 0) {
                    return null;
                }
                val = val * 10 + (c - '0');
                digLen++;
                if (val > 255) {
                    return null;
                }
            } else if (c == '.') {
                if (i == 0 || i == s.length() - 1 || s.charAt(i - 1) == '.' || pos == 3) {
                    return null;
                }
                fields[pos++] = (byte) val;
                val = 0;
                digLen = 0;
            } else {
                return null;
            }
        }
        if (pos < 3) {
            return null;
        }
        fields[3] = (byte) val;
        return fields;
    }

    private static Addr parseV6(String in) {
        String s = in;
        boolean zoned = false;
        int pct = s.indexOf('%');
        if (pct >= 0) {
            if (pct == s.length() - 1) {
                return null;
            }
            s = s.substring(0, pct);
            zoned = true;
        }
        byte[] ip = new byte[16];
        int ellipsis = -1;
        if (s.length() >= 2 && s.charAt(0) == ':' && s.charAt(1) == ':') {
            ellipsis = 0;
            s = s.substring(2);
            if (s.isEmpty()) {
                return new Addr(ip, false, zoned);
            }
        }
        int i = 0;
        while (i < 16) {
            int off = 0;
            int acc = 0;
            for (; off < s.length(); off++) {
                int d = hexValue(s.charAt(off));
                if (d < 0) {
                    break;
                }
                acc = (acc << 4) + d;
                if (off > 3 || acc > 0xffff) {
                    return null;
                }
            }
            if (off == 0) {
                return null;
            }
            if (off < s.length() && s.charAt(off) == '.') {
                if ((ellipsis < 0 && i != 12) || i + 4 > 16) {
                    return null;
                }
                byte[] v4 = parseV4(s);
                if (v4 == null) {
                    return null;
                }
                System.arraycopy(v4, 0, ip, i, 4);
                s = "";
                i += 4;
                break;
            }
            ip[i] = (byte) (acc >> 8);
            ip[i + 1] = (byte) acc;
            i += 2;
            s = s.substring(off);
            if (s.isEmpty()) {
                break;
            }
            if (s.charAt(0) != ':' || s.length() == 1) {
                return null;
            }
            s = s.substring(1);
            if (s.charAt(0) == ':') {
                if (ellipsis >= 0) {
                    return null;
                }
                ellipsis = i;
                s = s.substring(1);
                if (s.isEmpty()) {
                    break;
                }
            }
        }
        if (!s.isEmpty()) {
            return null;
        }
        if (i < 16) {
            if (ellipsis < 0) {
                return null;
            }
            int n = 16 - i;
            for (int j = i - 1; j >= ellipsis; j--) {
                ip[j + n] = ip[j];
            }
            Arrays.fill(ip, ellipsis, ellipsis + n, (byte) 0);
        } else if (ellipsis >= 0) {
            return null;
        }
        return new Addr(ip, false, zoned);
    }

    private static int hexValue(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private static byte[] mapped(byte[] v4) {
        byte[] b = new byte[16];
        b[10] = (byte) 0xff;
        b[11] = (byte) 0xff;
        System.arraycopy(v4, 0, b, 12, 4);
        return b;
    }

    /** net.IP.To4: the last 4 bytes of an IPv4-mapped address, a 4-byte address unchanged, otherwise null. */
    public static byte[] to4(byte[] ip) {
        if (ip.length == 4) {
            return ip;
        }
        for (int i = 0; i < 10; i++) {
            if (ip[i] != 0) {
                return null;
            }
        }
        return ip[10] == (byte) 0xff && ip[11] == (byte) 0xff ? Arrays.copyOfRange(ip, 12, 16) : null;
    }

    /** net.IP.IsLoopback: 127/8 (IPv4-mapped too) or ::1. */
    public static boolean isLoopback(byte[] ip16) {
        byte[] v4 = to4(ip16);
        if (v4 != null) {
            return v4[0] == 127;
        }
        for (int i = 0; i < 15; i++) {
            if (ip16[i] != 0) {
                return false;
            }
        }
        return ip16[15] == 1;
    }
}
