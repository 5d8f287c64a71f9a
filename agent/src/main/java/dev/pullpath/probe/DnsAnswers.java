package dev.pullpath.probe;

import dev.pullpath.diagnosis.Redaction;
import java.io.IOException;
import java.net.InetAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.xbill.DNS.Message;

/**
 * What the DNS hop's queries came back with, and how they are judged: one query's outcome, a server's answer, a
 * family's, a name's; pure functions, no network.
 */
final class DnsAnswers {
    private DnsAnswers() {
    }

    /** How one query ended; {@code conclusive} outcomes stop the walk through the servers. */
    enum QueryOutcome {
        NOERROR("NOERROR", true), NXDOMAIN("NXDOMAIN", true),
        ERROR("error", false), TIMEOUT("timeout", false), SERVFAIL("SERVFAIL", false), REFUSED("REFUSED", false);

        final String label;
        final boolean conclusive;

        QueryOutcome(String label, boolean conclusive) {
            this.label = label;
            this.conclusive = conclusive;
        }
    }

    record ServerAnswer(QueryOutcome outcome, Message message, String server) {
    }

    record FamilyAnswer(QueryOutcome outcome, List<String> chain, List<InetAddress> addresses, Long ttl,
                                String server) {
    }

    record NameOutcome(String name, FamilyAnswer a, FamilyAnswer aaaa) {
        List<InetAddress> addresses() {
            List<InetAddress> all = new ArrayList<>(a.addresses());
            all.addAll(aaaa.addresses());
            return all;
        }

        /** NXDOMAIN for either family settles it; otherwise the less conclusive family explains the failure. */
        QueryOutcome outcome() {
            if (a.outcome() == QueryOutcome.NXDOMAIN || aaaa.outcome() == QueryOutcome.NXDOMAIN) {
                return QueryOutcome.NXDOMAIN;
            }
            if (a.outcome().conclusive && aaaa.outcome().conclusive) {
                return QueryOutcome.NOERROR;
            }
            return a.outcome().conclusive ? aaaa.outcome()
                    : aaaa.outcome().conclusive ? a.outcome()
                    : a.outcome().ordinal() >= aaaa.outcome().ordinal() ? a.outcome() : aaaa.outcome();
        }

        String server() {
            return a.outcome() == QueryOutcome.NXDOMAIN || aaaa.server() == null ? a.server() : aaaa.server();
        }
    }

    /** Keeps the more telling of two inconclusive answers: a server that spoke beats one that was silent. */
    static ServerAnswer worse(ServerAnswer last, ServerAnswer current) {
        if (last == null) {
            return current;
        }
        return current.outcome().ordinal() >= last.outcome().ordinal() ? current : last;
    }

    static QueryOutcome classify(Throwable error) {
        Throwable t = Futures.cause(error);
        if (t instanceof SocketTimeoutException || t instanceof TimeoutException) {
            return QueryOutcome.TIMEOUT;
        }
        if (t instanceof IOException && String.valueOf(t.getMessage()).toLowerCase().contains("timed out")) {
            return QueryOutcome.TIMEOUT;
        }
        return QueryOutcome.ERROR;
    }

    static String describe(Throwable error) {
        Throwable t = Futures.cause(error);
        if (t instanceof PortUnreachableException) {
            return "ICMP port unreachable (nothing listens on the DNS port)";
        }
        String message = Redaction.snippet(String.valueOf(t.getMessage()), 120);
        if (t instanceof org.xbill.DNS.WireParseException) {
            // A reply that is not a DNS message for this query: cut short, looping names, another query's ID.
            return "malformed answer (" + message + ")";
        }
        if (t instanceof IOException) {
            return message;
        }
        return t.getClass().getSimpleName() + ": " + message;
    }
}
