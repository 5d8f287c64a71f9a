package dev.pullpath.schedule;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.OptionalInt;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * The fleet size as the headless Service's DNS says it: one A record per ready agent pod. dnsjava retries over TCP
 * when the UDP answer is truncated; a DNS message holds at most about 4,000 A records (64 KiB), so beyond that this
 * undercounts, and the DaemonSet is the source to prefer.
 */
public final class HeadlessServiceCount implements FleetSizeWatch.Source {
    private final Name service;
    private final Resolver resolver;

    /** @param server the DNS server to ask (the cluster DNS), or null for the system's resolvers */
    public HeadlessServiceCount(String service, InetSocketAddress server) {
        try {
            this.service = Name.fromString(service, Name.root);
            this.resolver = server == null ? new ExtendedResolver() : new SimpleResolver(server);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("fleet.service " + service + ": " + e.getMessage(), e);
        }
        resolver.setTimeout(Duration.ofSeconds(5));
    }

    @Override
    public String name() {
        return FleetSize.DNS;
    }

    @Override
    public OptionalInt count() throws java.io.IOException {
        Message answer = resolver.send(Message.newQuery(Record.newRecord(service, Type.A, DClass.IN)));
        if (answer.getRcode() != Rcode.NOERROR) {
            throw new java.io.IOException(service + " A: " + Rcode.string(answer.getRcode()));
        }
        int records = (int) answer.getSection(Section.ANSWER).stream().filter(r -> r.getType() == Type.A).count();
        return records == 0 ? OptionalInt.empty() : OptionalInt.of(records);
    }
}
