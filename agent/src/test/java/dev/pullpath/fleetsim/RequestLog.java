package dev.pullpath.fleetsim;

import java.util.Arrays;

/** When each registry request of one NAT address was sent, in milliseconds of virtual time, and its windows. */
final class RequestLog {
    private long[] at = new long[1024];
    private int size;

    void add(long millis) {
        if (size == at.length) {
            at = Arrays.copyOf(at, size * 2);
        }
        at[size++] = millis;
    }

    /** The requests sent in [fromMillis, toMillis), sorted. */
    long[] between(long fromMillis, long toMillis) {
        long[] sorted = Arrays.copyOf(at, size);
        Arrays.sort(sorted);
        return Arrays.stream(sorted).filter(t -> t >= fromMillis && t < toMillis).toArray();
    }

    /** The most requests in any window of {@code widthMillis} (sliding, starting at a request) of sorted times. */
    static int worstWindow(long[] sorted, long widthMillis) {
        int worst = 0;
        int start = 0;
        for (int end = 0; end < sorted.length; end++) {
            while (sorted[end] - sorted[start] >= widthMillis) {
                start++;
            }
            worst = Math.max(worst, end - start + 1);
        }
        return worst;
    }

    /** Every NAT's times together, sorted. */
    static long[] merged(long[]... parts) {
        return Arrays.stream(parts).flatMapToLong(Arrays::stream).sorted().toArray();
    }
}
