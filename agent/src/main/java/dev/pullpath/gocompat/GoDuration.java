package dev.pullpath.gocompat;

import java.math.BigDecimal;
import java.time.Duration;

/** Go's time.ParseDuration. */
public final class GoDuration {
    private GoDuration() {
    }

    /**
     * Go's time.ParseDuration (what metav1.Duration decodes with): "12h", "1h30m", "1.5s", "300ms", "0", with
     * ns/us/µs/ms/s/m/h units and an optional sign; null when Go would refuse it.
     */
    public static Duration parse(String text) {
        if (text == null) {
            return null;
        }
        String s = text;
        boolean negative = false;
        if (!s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+')) {
            negative = s.charAt(0) == '-';
            s = s.substring(1);
        }
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        if (s.isEmpty()) {
            return null;
        }
        BigDecimal nanos = BigDecimal.ZERO;
        int i = 0;
        while (i < s.length()) {
            int start = i;
            while (i < s.length() && Character.isDigit(s.charAt(i)) && s.charAt(i) < 0x80) {
                i++;
            }
            boolean pre = i > start;
            boolean post = false;
            if (i < s.length() && s.charAt(i) == '.') {
                i++;
                int frac = i;
                while (i < s.length() && Character.isDigit(s.charAt(i)) && s.charAt(i) < 0x80) {
                    i++;
                }
                post = i > frac;
            }
            if (!pre && !post) {
                return null;
            }
            String number = s.substring(start, i);
            int unitStart = i;
            while (i < s.length() && s.charAt(i) != '.' && !(s.charAt(i) >= '0' && s.charAt(i) <= '9')) {
                i++;
            }
            long unit = switch (s.substring(unitStart, i)) {
                case "ns" -> 1L;
                case "us", "\u00b5s", "\u03bcs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                case "h" -> 3_600_000_000_000L;
                default -> -1L;
            };
            if (unit < 0) {
                return null;
            }
            BigDecimal value = new BigDecimal(number.startsWith(".") ? "0" + number
                    : number.endsWith(".") ? number + "0" : number);
            nanos = nanos.add(value.multiply(BigDecimal.valueOf(unit)));
            if (nanos.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
                return null; // Go: "invalid duration" on overflow
            }
        }
        long total = nanos.longValue();
        return Duration.ofNanos(negative ? -total : total);
    }
}
