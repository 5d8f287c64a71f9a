package dev.pullpath.probe;

import dev.pullpath.config.IpLiterals;
import dev.pullpath.diagnosis.Evidence;
import dev.pullpath.diagnosis.Reason;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where SYNs die, without raw sockets or capabilities: the same TCP connect again with a hop limit of 1, 2, 3 ...
 * Linux queues the ICMP time-exceeded a router sends for a SYN_SENT socket on its error queue, with the router's
 * address; the first hop limit that brings no answer within its wait is where the SYN is dropped. The destination
 * answering (SYN-ACK or RST) ends the trace too: the drop was not on this path this time.
 *
 * <p>Runs only after a connect timed out, at most {@link #MAX_HOPS} hops, each waiting at most
 * {@link #HOP_WAIT_MILLIS}, all within one budget (one phase timeout): a failing probe takes at most one phase
 * timeout longer. One SYN per hop, sequential: a trace sends at most 16 packets.
 */
final class TcpTraceroute {
    static final int MAX_HOPS = 16;
    static final long HOP_WAIT_MILLIS = 1_000;
    /** Below this, a hop's wait could not tell a silent hop from a slow one. */
    private static final long MIN_HOP_WAIT_MILLIS = 50;
    /** A hop's answers, as {@link Evidence.TraceHop#answer()} names them (besides an ICMP unreachable's text). */
    static final String TIME_EXCEEDED = "time_exceeded";
    static final String SILENT = "silent";
    static final String DESTINATION = "destination";
    static final String RESET = "reset";

    private final Transport transport;
    private final long budgetMillis;

    TcpTraceroute(Transport transport, long budgetMillis) {
        this.transport = transport;
        this.budgetMillis = budgetMillis;
    }

    /** Whether this process can set a hop limit and read the error queue: without both, no trace is taken. */
    static boolean available() {
        return NativeSockets.available();
    }

    CompletableFuture<Evidence.Trace> trace(InetSocketAddress destination) {
        Instant tracedAt = Instant.now();
        long deadline = System.nanoTime() + budgetMillis * 1_000_000L;
        return hop(destination, 1, deadline, new ArrayList<>()).thenApply(hops -> summarize(destination, hops,
                tracedAt));
    }

    private CompletableFuture<List<Evidence.TraceHop>> hop(InetSocketAddress destination, int ttl, long deadline,
                                                           List<Evidence.TraceHop> hops) {
        long left = (deadline - System.nanoTime()) / 1_000_000L;
        if (ttl > MAX_HOPS || left < MIN_HOP_WAIT_MILLIS) {
            return CompletableFuture.completedFuture(hops);
        }
        long wait = Math.min(HOP_WAIT_MILLIS, left);
        return transport.connect(destination, wait, Transport.Shape.hopLimit(ttl)).thenCompose(attempt -> {
            Evidence.TraceHop answer = answer(ttl, destination, attempt);
            hops.add(answer);
            return answer.answer().equals(TIME_EXCEEDED) ? hop(destination, ttl + 1, deadline, hops)
                    : CompletableFuture.completedFuture(hops);
        });
    }

    /** What hop {@code ttl} said; anything but time-exceeded ends the trace. */
    static Evidence.TraceHop answer(int ttl, InetSocketAddress destination, Transport.Attempt attempt) {
        String self = IpLiterals.text(destination.getAddress());
        if (attempt.connected()) {
            attempt.channel().close();
            return new Evidence.TraceHop(ttl, self, attempt.rttMillis(), DESTINATION);
        }
        IcmpErrorQueue.IcmpError icmp = attempt.icmp();
        if (icmp != null) {
            String from = icmp.offender() == null ? null : IpLiterals.text(icmp.offender());
            return new Evidence.TraceHop(ttl, from, attempt.rttMillis(), icmp.timeExceeded() ? TIME_EXCEEDED
                    : icmp.describe());
        }
        // No ICMP: the errno says what the connect would have been diagnosed as, read as the connect hop reads it.
        ConnectProbe.Failure failure = ConnectProbe.classify(attempt.cause(), null, destination,
                DnsProbe.hostPort(destination), HOP_WAIT_MILLIS);
        if (failure.reason() == Reason.FIREWALL_CONNECT_TIMEOUT) {
            return new Evidence.TraceHop(ttl, null, attempt.rttMillis(), SILENT);
        }
        if (failure.reason() == Reason.FIREWALL_CONNECT_REFUSED) {
            return new Evidence.TraceHop(ttl, self, attempt.rttMillis(), RESET);
        }
        // An error with no ICMP behind it (the node's own filter, a local route): the trace cannot go on.
        return new Evidence.TraceHop(ttl, null, attempt.rttMillis(), "error: " + failure.summary());
    }

    /** The trace's one line, the shape of the example: where answers stop, and what stopped them. */
    static Evidence.Trace summarize(InetSocketAddress destination, List<Evidence.TraceHop> hops, Instant tracedAt) {
        String to = "SYN to " + DnsProbe.hostPort(destination);
        List<Evidence.TraceHop> routers = hops.stream().filter(h -> h.answer().equals(TIME_EXCEEDED)).toList();
        Evidence.TraceHop last = hops.isEmpty() ? null : hops.get(hops.size() - 1);
        String upTo = routers.isEmpty() ? "" : " answered up to hop " + routers.get(routers.size() - 1).hop() + " ("
                + routers.get(routers.size() - 1).address() + ")";
        Integer silentFrom = null;
        boolean reached = false;
        String summary;
        if (last == null) {
            summary = to + ": not traced (no time left in the probe's budget)";
        } else if (last.answer().equals(SILENT)) {
            silentFrom = last.hop();
            summary = to + (routers.isEmpty() ? ": no hop answered, silent from hop 1 (the first router, or a filter "
                    + "before it)" : upTo + ", silent from hop " + last.hop());
        } else if (last.answer().equals(DESTINATION) || last.answer().equals(RESET)) {
            reached = true;
            summary = to + (upTo.isEmpty() ? "" : upTo + ",") + " reached the destination at hop " + last.hop()
                    + (last.answer().equals(RESET) ? " (RST)" : "") + " on the trace's own SYN: the drop is not "
                    + "there every time";
        } else if (last.answer().equals(TIME_EXCEEDED)) {
            summary = to + upTo + ", still in transit after " + MAX_HOPS + " hops or the trace's budget";
        } else {
            summary = to + (upTo.isEmpty() ? "" : upTo + ",") + " stopped at hop " + last.hop()
                    + (last.address() == null ? "" : " (" + last.address() + ")") + ": " + last.answer();
        }
        return new Evidence.Trace(DnsProbe.hostPort(destination), hops, silentFrom, reached, summary, tracedAt);
    }
}
