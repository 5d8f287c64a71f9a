package dev.pullpath.testing;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Address;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Header;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * A scriptable DNS responder on 127.0.0.1 (UDP and TCP, same port) that answers the way a
 * recursive resolver would from the client's point of view: authoritative data, CNAME chains
 * flattened into the answer, configurable rcodes, and names it never answers at all.
 *
 * <p>Configuration is per absolute, lower-cased name and may change while queries are in flight.
 */
public final class DnsTestServer implements AutoCloseable {
    private static final int UDP_LIMIT_NO_EDNS = 512;
    private static final int MAX_CNAME_HOPS = 8;
    private static final int TCP_IDLE_MILLIS = 10_000;
    /** Sentinel from {@link #respond}: unparseable input; TCP drops the connection, UDP ignores it. */
    private static final byte[] MALFORMED = new byte[0];

    private enum Kind { DATA, CNAME, RCODE, SILENT, NODATA }

    /** Immutable per-name behaviour; replaced atomically so readers never see a half-updated entry. */
    private record Entry(Kind kind, List<InetAddress> a, List<InetAddress> aaaa, Name target, int rcode) {
        static final Entry EMPTY_DATA = new Entry(Kind.DATA, List.of(), List.of(), null, Rcode.NOERROR);

        Entry withA(List<InetAddress> v) {
            return new Entry(Kind.DATA, v, aaaa, null, Rcode.NOERROR);
        }

        Entry withAaaa(List<InetAddress> v) {
            return new Entry(Kind.DATA, a, v, null, Rcode.NOERROR);
        }
    }

    /** Outcome of resolving a question: null {@code rcode} means "stay silent". */
    private record Answer(Integer rcode, List<Record> records) {}

    private final Map<String, Entry> zone = new ConcurrentHashMap<>();
    private final List<String> queries = new CopyOnWriteArrayList<>();
    private final AtomicInteger malformed = new AtomicInteger();
    private final Set<Socket> tcpClients = ConcurrentHashMap.newKeySet();
    private final DatagramSocket udp;
    private final ServerSocket tcp;
    private final Thread udpThread;
    private final Thread tcpThread;
    private volatile int ttl = 60;
    private volatile int defaultRcode = Rcode.NXDOMAIN;
    private volatile boolean silentAll;
    private volatile boolean closed;

    public DnsTestServer() {
        this(Loopback.IPV4);
    }

    /** On {@code address}: loopback, or an address inside a network namespace the test made. */
    public DnsTestServer(java.net.InetAddress address) {
        this(address, 0);
    }

    /** On {@code address} and {@code port} (0: any free one, the same for UDP and TCP). */
    public DnsTestServer(java.net.InetAddress address, int port) {
        DatagramSocket u = null;
        ServerSocket t = null;
        IOException last = null;
        // UDP picks the ephemeral port; TCP must then win the same number, which another process
        // may already hold. A handful of fresh attempts makes that practically impossible.
        for (int attempt = 0; attempt < 20 && t == null; attempt++) {
            try {
                u = new DatagramSocket(new InetSocketAddress(address, port));
                t = new ServerSocket();
                t.setReuseAddress(true);
                t.bind(new InetSocketAddress(address, u.getLocalPort()), 50);
            } catch (BindException e) {
                last = e;
                closeQuietly(t);
                closeQuietly(u);
                t = null;
                u = null;
            } catch (IOException e) {
                closeQuietly(t);
                closeQuietly(u);
                throw new UncheckedIOException(e);
            }
        }
        if (t == null) {
            throw new UncheckedIOException("no UDP+TCP port pair available on 127.0.0.1", last);
        }
        udp = u;
        tcp = t;
        udpThread = daemon("dns-test-udp-" + port(), this::udpLoop);
        tcpThread = daemon("dns-test-tcp-" + port(), this::tcpAcceptLoop);
    }

    // ---- configuration ------------------------------------------------------------------

    /** Sets the A records of {@code name}, keeping any AAAA records; replaces CNAME/rcode/silent config. */
    public DnsTestServer a(String name, String... ipv4) {
        List<InetAddress> addrs = parse(ipv4, Address.IPv4);
        zone.compute(key(name), (k, old) -> data(old).withA(addrs));
        return this;
    }

    /** Sets the AAAA records of {@code name}, keeping any A records. */
    public DnsTestServer aaaa(String name, String... ipv6) {
        List<InetAddress> addrs = parse(ipv6, Address.IPv6);
        zone.compute(key(name), (k, old) -> data(old).withAaaa(addrs));
        return this;
    }

    public DnsTestServer cname(String name, String target) {
        zone.put(key(name), new Entry(Kind.CNAME, List.of(), List.of(), toName(target), Rcode.NOERROR));
        return this;
    }

    /** Answers every query for {@code name} with {@code rcode} (e.g. {@link Rcode#SERVFAIL}) and no records. */
    public DnsTestServer rcode(String name, int rcode) {
        zone.put(key(name), new Entry(Kind.RCODE, List.of(), List.of(), null, rcode));
        return this;
    }

    /** Never answers queries for {@code name}, over UDP or TCP. */
    public DnsTestServer silent(String name) {
        zone.put(key(name), new Entry(Kind.SILENT, List.of(), List.of(), null, Rcode.NOERROR));
        return this;
    }

    /** NOERROR with an empty answer for every type: the name exists but has no such data. */
    public DnsTestServer noData(String name) {
        zone.put(key(name), new Entry(Kind.NODATA, List.of(), List.of(), null, Rcode.NOERROR));
        return this;
    }

    public DnsTestServer remove(String name) {
        zone.remove(key(name));
        return this;
    }

    /** Forgets all names and recorded queries and restores the defaults. */
    public DnsTestServer reset() {
        zone.clear();
        queries.clear();
        ttl = 60;
        defaultRcode = Rcode.NXDOMAIN;
        silentAll = false;
        return this;
    }

    public DnsTestServer ttl(int seconds) {
        ttl = seconds;
        return this;
    }

    /** Rcode for names with no configuration at all; NXDOMAIN unless changed. */
    public DnsTestServer defaultRcode(int rcode) {
        defaultRcode = rcode;
        return this;
    }

    /** Drops every query, as a blackholed resolver would. */
    public DnsTestServer silentAll() {
        silentAll = true;
        return this;
    }

    public DnsTestServer answerAll() {
        silentAll = false;
        return this;
    }

    // ---- observation --------------------------------------------------------------------

    public int port() {
        return udp.getLocalPort();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) udp.getLocalSocketAddress();
    }

    /** Well-formed queries received, including the ones deliberately left unanswered. */
    public int queryCount() {
        return queries.size();
    }

    /** Received questions as {@code "<lower-cased absolute name> <TYPE>"}, e.g. {@code "public.ecr.aws. A"}. */
    public List<String> queries() {
        return List.copyOf(queries);
    }

    public void clearQueries() {
        queries.clear();
    }

    public int malformedCount() {
        return malformed.get();
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(udp);
        closeQuietly(tcp);
        tcpClients.forEach(DnsTestServer::closeQuietly);
        join(udpThread);
        join(tcpThread);
    }

    // ---- resolution -----------------------------------------------------------------------

    /** The wire response, null when the query must go unanswered, or {@link #MALFORMED}. */
    private byte[] respond(byte[] wire, boolean overUdp) {
        Message query;
        try {
            query = new Message(wire);
        } catch (IOException | RuntimeException e) {
            malformed.incrementAndGet();
            return MALFORMED;
        }
        Header qh = query.getHeader();
        Record question = query.getQuestion();
        if (qh.getFlag(Flags.QR)) {
            malformed.incrementAndGet(); // a response sent to us; answering could loop
            return null;
        }
        if (question != null) {
            queries.add(question.getName().toString().toLowerCase(Locale.ROOT) + " " + Type.string(question.getType()));
        }
        if (silentAll) {
            return null;
        }
        Message response = new Message(qh.getID());
        Header rh = response.getHeader();
        rh.setFlag(Flags.QR);
        rh.setFlag(Flags.RA);
        rh.setOpcode(qh.getOpcode());
        if (qh.getFlag(Flags.RD)) {
            rh.setFlag(Flags.RD);
        }
        OPTRecord queryOpt = query.getOPT();
        if (queryOpt != null) {
            response.addRecord(new OPTRecord(4096, 0, 0), Section.ADDITIONAL);
        }
        if (question == null) {
            rh.setRcode(Rcode.FORMERR);
        } else if (qh.getOpcode() != Opcode.QUERY) {
            response.addRecord(question, Section.QUESTION);
            rh.setRcode(Rcode.NOTIMP);
        } else {
            response.addRecord(question, Section.QUESTION);
            Answer answer = resolve(question.getName(), question.getType());
            if (answer.rcode() == null) {
                return null;
            }
            rh.setFlag(Flags.AA);
            rh.setRcode(answer.rcode());
            answer.records().forEach(r -> response.addRecord(r, Section.ANSWER));
        }
        if (!overUdp) {
            return response.toWire();
        }
        int limit = queryOpt == null ? UDP_LIMIT_NO_EDNS : Math.max(UDP_LIMIT_NO_EDNS, queryOpt.getPayloadSize());
        // dnsjava drops whole RRsets that do not fit and sets TC, prompting a TCP retry.
        return response.toWire(limit);
    }

    private Answer resolve(Name qname, int qtype) {
        List<Record> records = new ArrayList<>();
        Name current = qname;
        for (int hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
            Entry e = zone.get(key(current));
            if (e == null) {
                // Chain leaving our data ends where an external lookup would: with the default rcode.
                return new Answer(defaultRcode, records);
            }
            switch (e.kind()) {
                case SILENT:
                    return new Answer(null, List.of());
                case RCODE:
                    return new Answer(e.rcode(), records);
                case NODATA:
                    return new Answer(Rcode.NOERROR, records);
                case DATA:
                    addAddresses(records, current, qtype, e);
                    return new Answer(Rcode.NOERROR, records);
                case CNAME:
                    records.add(new CNAMERecord(current, DClass.IN, ttl, e.target()));
                    if (qtype == Type.CNAME) {
                        return new Answer(Rcode.NOERROR, records);
                    }
                    current = e.target();
                    break;
                default:
                    throw new IllegalStateException(e.kind().name());
            }
        }
        return new Answer(Rcode.SERVFAIL, List.of()); // CNAME loop, as a real resolver reports it
    }

    private void addAddresses(List<Record> out, Name owner, int qtype, Entry e) {
        long t = ttl;
        if (qtype == Type.A || qtype == Type.ANY) {
            e.a().forEach(ip -> out.add(new ARecord(owner, DClass.IN, t, ip)));
        }
        if (qtype == Type.AAAA || qtype == Type.ANY) {
            e.aaaa().forEach(ip -> out.add(new AAAARecord(owner, DClass.IN, t, ip)));
        }
    }

    // ---- transport --------------------------------------------------------------------------

    private void udpLoop() {
        byte[] buf = new byte[65_535];
        while (!closed) {
            DatagramPacket packet = new DatagramPacket(buf, buf.length);
            try {
                udp.receive(packet);
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            try {
                byte[] out = respond(Arrays.copyOfRange(buf, packet.getOffset(), packet.getOffset() + packet.getLength()), true);
                if (out != null && out != MALFORMED) {
                    udp.send(new DatagramPacket(out, out.length, packet.getSocketAddress()));
                }
            } catch (IOException | RuntimeException e) {
                // One bad exchange must never take the responder down.
            }
        }
    }

    private void tcpAcceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = tcp.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            tcpClients.add(s);
            if (closed) {
                closeQuietly(s);
                return;
            }
            daemon("dns-test-tcp-conn-" + s.getPort(), () -> serveTcp(s));
        }
    }

    private void serveTcp(Socket s) {
        try (s) {
            s.setSoTimeout(TCP_IDLE_MILLIS);
            DataInputStream in = new DataInputStream(s.getInputStream());
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            while (!closed) {
                byte[] wire = new byte[in.readUnsignedShort()];
                in.readFully(wire);
                byte[] response = respond(wire, false);
                if (response == MALFORMED) {
                    return; // framing can no longer be trusted
                }
                if (response != null) {
                    out.writeShort(response.length);
                    out.write(response);
                    out.flush();
                }
            }
        } catch (EOFException | SocketException e) {
            // Client hung up or we are closing.
        } catch (IOException | RuntimeException e) {
            // Idle timeout or garbage framing: drop just this connection.
        } finally {
            tcpClients.remove(s);
        }
    }

    // ---- helpers ----------------------------------------------------------------------------

    private static Entry data(Entry old) {
        return old != null && old.kind() == Kind.DATA ? old : Entry.EMPTY_DATA;
    }

    private static String key(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n : n + ".";
    }

    private static String key(Name name) {
        return name.toString().toLowerCase(Locale.ROOT);
    }

    private static Name toName(String name) {
        try {
            return Name.fromString(key(name));
        } catch (TextParseException e) {
            throw new IllegalArgumentException("bad DNS name: " + name, e);
        }
    }

    private static List<InetAddress> parse(String[] literals, int family) {
        List<InetAddress> out = new ArrayList<>(literals.length);
        for (String ip : literals) {
            try {
                // Address.getByAddress only parses literals: it can never trigger a real lookup.
                out.add(Address.getByAddress(ip, family));
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("not an IPv" + (family == Address.IPv4 ? 4 : 6) + " literal: " + ip, e);
            }
        }
        return List.copyOf(out);
    }

    private static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void join(Thread t) {
        try {
            t.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // closing is best effort
        }
    }
}
