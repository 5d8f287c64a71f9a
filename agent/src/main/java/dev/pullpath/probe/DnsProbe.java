package dev.pullpath.probe;

import dev.pullpath.config.HostsFile;
import dev.pullpath.config.IpLiterals;
import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.ResolvConf;
import dev.pullpath.diagnosis.Evidence;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.Redaction;
import dev.pullpath.probe.DnsAnswers.FamilyAnswer;
import dev.pullpath.probe.DnsAnswers.NameOutcome;
import dev.pullpath.probe.DnsAnswers.QueryOutcome;
import dev.pullpath.probe.DnsAnswers.ServerAnswer;
import static dev.pullpath.probe.DnsAnswers.classify;
import static dev.pullpath.probe.DnsAnswers.describe;
import static dev.pullpath.probe.DnsAnswers.worse;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * The DNS hop, asked the way Go's resolver (containerd's) asks it: {@code /etc/hosts} first, then A and AAAA for
 * each search-list candidate against the resolv.conf nameservers in order, following CNAMEs. Every query is kept
 * as evidence with its server, rcode and time. The whole phase is bounded by the phase timeout.
 */
public final class DnsProbe implements Hop<String, DnsProbe.Resolution> {
    private static final int MAX_CNAME_HOPS = 8;
    private static final Duration MIN_QUERY_TIMEOUT = Duration.ofMillis(100);
    /** What Go and glibc use when resolv.conf names no nameserver. */
    private static final List<InetSocketAddress> FALLBACK_SERVERS = List.of(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 53));

    private final ProbeOptions options;
    private final Executor executor;

    /** The addresses of a name and how they were found. */
    public record Resolution(List<InetAddress> addresses, Evidence.Dns evidence) {
    }

    public DnsProbe(ProbeOptions options, Executor executor) {
        this.options = options;
        this.executor = executor;
    }

    @Override
    public Phase phase() {
        return Phase.DNS;
    }

    /** Resolves {@code host} as containerd's resolver would (hosts file, search list, both families). */
    @Override
    public CompletableFuture<PhaseResult<Resolution>> run(String host, ProbeContext ctx) {
        return resolve(host);
    }

    private CompletableFuture<PhaseResult<Resolution>> resolve(String host) {
        long start = System.nanoTime();
        if (IpLiterals.isLiteral(host)) {
            InetAddress a = IpLiterals.parse(host);
            return CompletableFuture.completedFuture(PhaseResult.ok(Phase.DNS, start, "IP literal, no lookup",
                    new Resolution(List.of(a), new Evidence.Dns("literal", host, List.of(), List.of(IpLiterals.text(a)),
                            null, null, List.of()))));
        }
        try {
            toName(host);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(PhaseResult.failed(Phase.DNS, start, Reason.DNS_NXDOMAIN,
                    Redaction.snippet(host, 80) + " is not a valid DNS name (a label over 63 characters, or more than "
                            + "255 in all): no resolver can answer for it"));
        }
        HostsFile hosts = HostsFile.read(options.hostsFile());
        HostsFile.Match match = hosts.lookup(host);
        if (match != null) {
            List<String> texts = match.addresses().stream().map(IpLiterals::text).toList();
            String where = options.hostsFile() + ":" + match.lineNumber();
            return CompletableFuture.completedFuture(PhaseResult.ok(Phase.DNS, start,
                    host + " -> " + String.join(", ", texts) + " from " + where + " (hosts file overrides DNS)",
                    new Resolution(match.addresses(), new Evidence.Dns("hosts-file", host, List.of(), texts, null,
                            where + ": " + match.line(), List.of()))));
        }
        ResolvConf conf = ResolvConf.read(options.resolvConf());
        List<InetSocketAddress> servers = options.resolvers().isEmpty() ? conf.nameservers() : options.resolvers();
        boolean fallback = servers.isEmpty();
        if (fallback) {
            servers = FALLBACK_SERVERS;
        }
        Lookup lookup = new Lookup(host, conf.candidates(host), servers, fallback ? conf.problem() : null, start);
        // Go's resolver (containerd's) skips a hosts file it cannot read; so does this one, but says so.
        String hostsProblem = hosts.problem();
        return hostsProblem == null ? lookup.run() : lookup.run().thenApply(r -> r.withNote(hostsProblem));
    }

    /** One resolution: the state shared by the queries it sends. */
    private final class Lookup {
        private final String host;
        private final List<String> candidates;
        private final List<InetSocketAddress> servers;
        private final String fallbackProblem;
        private final long start;
        private final long deadline;
        private final List<Evidence.DnsQuery> queries = Collections.synchronizedList(new ArrayList<>());

        Lookup(String host, List<String> candidates, List<InetSocketAddress> servers, String fallbackProblem,
               long start) {
            this.host = host;
            this.candidates = candidates;
            this.servers = servers;
            this.fallbackProblem = fallbackProblem;
            this.start = start;
            this.deadline = start + options.timeout().toNanos();
        }

        CompletableFuture<PhaseResult<Resolution>> run() {
            return tryCandidate(0, new ArrayList<>());
        }

        private CompletableFuture<PhaseResult<Resolution>> tryCandidate(int index, List<NameOutcome> failures) {
            if (index >= candidates.size() || System.nanoTime() >= deadline) {
                return CompletableFuture.completedFuture(failure(failures));
            }
            String name = candidates.get(index);
            CompletableFuture<FamilyAnswer> a = ask(name, Type.A, 0, new ArrayList<>());
            CompletableFuture<FamilyAnswer> aaaa = ask(name, Type.AAAA, 0, new ArrayList<>());
            return a.thenCombine(aaaa, (va, vaaaa) -> new NameOutcome(name, va, vaaaa)).thenCompose(outcome -> {
                if (!outcome.addresses().isEmpty()) {
                    return CompletableFuture.completedFuture(success(outcome));
                }
                failures.add(outcome);
                return tryCandidate(index + 1, failures);
            });
        }

        /** Asks {@code name} for {@code type}, following a CNAME chain the server left unfinished. */
        private CompletableFuture<FamilyAnswer> ask(String name, int type, int hops, List<String> chain) {
            return queryServers(name, type, 0, null).thenCompose(answer -> {
                if (answer.message() == null) {
                    return CompletableFuture.completedFuture(new FamilyAnswer(answer.outcome(), chain, List.of(), null,
                            answer.server()));
                }
                List<Record> records = answer.message().getSection(Section.ANSWER);
                Name current = toName(name);
                long minTtl = Long.MAX_VALUE;
                List<InetAddress> addresses = new ArrayList<>();
                for (int hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
                    Name next = null;
                    for (Record r : records) {
                        if (!r.getName().equals(current)) {
                            continue;
                        }
                        if (r instanceof CNAMERecord c && next == null) {
                            next = c.getTarget();
                            minTtl = Math.min(minTtl, r.getTTL());
                        } else if (r.getType() == type) {
                            minTtl = Math.min(minTtl, r.getTTL());
                            addresses.add(r instanceof ARecord ar ? ar.getAddress() : ((AAAARecord) r).getAddress());
                        }
                    }
                    if (next == null || !addresses.isEmpty()) {
                        break;
                    }
                    chain.add(next.toString(true));
                    current = next;
                }
                Long ttl = minTtl == Long.MAX_VALUE ? null : minTtl;
                boolean chainUnfinished = addresses.isEmpty() && !chain.isEmpty()
                        && answer.message().getRcode() == Rcode.NOERROR && hops < MAX_CNAME_HOPS
                        && !current.equals(toName(name));
                if (chainUnfinished) {
                    return ask(current.toString(), type, hops + 1, chain);
                }
                return CompletableFuture.completedFuture(new FamilyAnswer(answer.outcome(), chain, addresses, ttl,
                        answer.server()));
            });
        }

        /** Tries the nameservers in order; a server that times out, fails or refuses passes the question on. */
        private CompletableFuture<ServerAnswer> queryServers(String name, int type, int index, ServerAnswer last) {
            long remaining = deadline - System.nanoTime();
            if (index >= servers.size() || remaining <= 0) {
                return CompletableFuture.completedFuture(last != null ? last
                        : new ServerAnswer(QueryOutcome.TIMEOUT, null, null));
            }
            InetSocketAddress server = servers.get(index);
            // Leave the later servers their share of what remains, as glibc's rotation through servers does.
            long share = Math.max(MIN_QUERY_TIMEOUT.toNanos(), remaining / (servers.size() - index));
            Duration timeout = Duration.ofNanos(Math.min(share, remaining));
            SimpleResolver resolver = new SimpleResolver(server);
            resolver.setTimeout(timeout);
            Message query;
            try {
                query = Message.newQuery(Record.newRecord(toName(name), type, DClass.IN));
            } catch (IllegalArgumentException e) {
                return CompletableFuture.completedFuture(new ServerAnswer(QueryOutcome.NXDOMAIN, null, null));
            }
            long sent = System.nanoTime();
            String serverText = hostPort(server);
            // dnsjava notices its own timeouts only when its selector wakes (once a second): hold the share here.
            return Deadlines.within(resolver.sendAsync(query, executor).toCompletableFuture(),
                    Math.max(1, timeout.toMillis()), "the query").handle((response, error) -> {
                double ms = PhaseReport.millisSince(sent);
                if (error != null) {
                    QueryOutcome outcome = classify(error);
                    queries.add(new Evidence.DnsQuery(name, Type.string(type), serverText, outcome.label, 0, ms,
                            outcome == QueryOutcome.TIMEOUT ? null : describe(error)));
                    return new ServerAnswer(outcome, null, serverText);
                }
                int rcode = response.getRcode();
                int count = response.getSection(Section.ANSWER).size();
                queries.add(new Evidence.DnsQuery(name, Type.string(type), serverText, Rcode.string(rcode), count, ms,
                        null));
                QueryOutcome outcome = switch (rcode) {
                    case Rcode.NOERROR -> QueryOutcome.NOERROR;
                    case Rcode.NXDOMAIN -> QueryOutcome.NXDOMAIN;
                    case Rcode.REFUSED -> QueryOutcome.REFUSED;
                    default -> QueryOutcome.SERVFAIL;
                };
                return new ServerAnswer(outcome, outcome.conclusive ? response : null, serverText);
            }).thenCompose(answer -> answer.outcome().conclusive ? CompletableFuture.completedFuture(answer)
                    : queryServers(name, type, index + 1, worse(last, answer)));
        }

        private PhaseResult<Resolution> success(NameOutcome outcome) {
            List<InetAddress> addresses = outcome.addresses();
            List<String> texts = addresses.stream().map(IpLiterals::text).toList();
            List<String> chain = outcome.a().chain().isEmpty() ? outcome.aaaa().chain() : outcome.a().chain();
            Long ttl = minTtl(outcome.a().ttl(), outcome.aaaa().ttl());
            String server = outcome.a().server() != null ? outcome.a().server() : outcome.aaaa().server();
            String shown = trimDot(outcome.name());
            StringBuilder detail = new StringBuilder(shown);
            for (String c : chain) {
                detail.append(" -> ").append(trimDot(c));
            }
            detail.append(" -> ").append(String.join(", ", texts)).append(" from ").append(server);
            if (ttl != null) {
                detail.append(" (ttl ").append(ttl).append("s)");
            }
            return PhaseResult.ok(Phase.DNS, start, detail.toString(), new Resolution(addresses,
                    new Evidence.Dns("dns", shown, chain.stream().map(DnsProbe::trimDot).toList(), texts, ttl, null,
                            List.copyOf(queries))));
        }

        private PhaseResult<Resolution> failure(List<NameOutcome> failures) {
            // The host's own name decides, as the search-list variants failing is the normal case.
            NameOutcome decisive = failures.stream().filter(f -> f.name().equals(host + ".")).findFirst().orElse(null);
            boolean ownNameAsked = decisive != null;
            if (decisive == null && !candidates.contains(host + ".") && !failures.isEmpty()) {
                decisive = failures.get(failures.size() - 1);
                ownNameAsked = true;
            }
            // Time ran out before the name itself was asked: the search-list variants' answers decide nothing.
            QueryOutcome outcome = ownNameAsked ? decisive.outcome() : QueryOutcome.TIMEOUT;
            String tried;
            synchronized (queries) {
                tried = queries.stream().map(Evidence.DnsQuery::server).distinct().reduce((x, y) -> x + ", " + y)
                        .orElse(servers.stream().map(DnsProbe::hostPort).findFirst().orElse(""));
            }
            String name = decisive == null || !ownNameAsked ? host : trimDot(decisive.name());
            Reason reason;
            String summary;
            switch (outcome) {
                case NXDOMAIN -> {
                    reason = Reason.DNS_NXDOMAIN;
                    summary = name + ": NXDOMAIN from " + decisive.server();
                }
                case NOERROR -> {
                    reason = Reason.DNS_NO_DATA;
                    summary = name + ": NOERROR with no A or AAAA record from " + decisive.server();
                }
                case SERVFAIL -> {
                    reason = Reason.DNS_SERVFAIL;
                    summary = name + ": SERVFAIL from " + tried;
                }
                case REFUSED -> {
                    reason = Reason.DNS_REFUSED;
                    summary = name + ": REFUSED by " + tried;
                }
                case ERROR -> {
                    reason = Reason.DNS_NO_RESOLVER;
                    summary = (fallbackProblem != null ? fallbackProblem + "; default " : "")
                            + "nameserver " + tried + " unusable: " + lastError();
                }
                default -> {
                    reason = fallbackProblem != null ? Reason.DNS_NO_RESOLVER : Reason.DNS_TIMEOUT;
                    summary = (fallbackProblem != null ? fallbackProblem + "; default nameserver " : "no answer from ")
                            + tried + (fallbackProblem != null ? " did not answer" : "") + " for " + name
                            + " within " + options.timeout().toMillis() + "ms";
                }
            }
            List<String> chain = decisive == null || !ownNameAsked ? List.of() : decisive.a().chain();
            return PhaseResult.failed(Phase.DNS, start, reason, summary, new Resolution(List.of(),
                    new Evidence.Dns("dns", name, chain.stream().map(DnsProbe::trimDot).toList(), List.of(), null, null,
                            List.copyOf(queries))));
        }

        private String lastError() {
            synchronized (queries) {
                for (int i = queries.size() - 1; i >= 0; i--) {
                    if (queries.get(i).error() != null) {
                        return queries.get(i).error();
                    }
                }
            }
            return "no answer";
        }
    }

    private static Name toName(String name) {
        try {
            return Name.fromString(name.endsWith(".") ? name : name + ".");
        } catch (TextParseException e) {
            throw new IllegalArgumentException("not a DNS name: " + name, e);
        }
    }

    private static Long minTtl(Long a, Long b) {
        return a == null ? b : b == null ? a : Long.valueOf(Math.min(a, b));
    }

    private static String trimDot(String name) {
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    static String hostPort(InetSocketAddress a) {
        String host = IpLiterals.text(a.getAddress());
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
