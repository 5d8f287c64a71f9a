package dev.pullpath.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.Category;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.testing.Loopback;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Section;

/**
 * A nameserver that answers with what a broken or hostile network sends: each answer ends in a classified DNS
 * failure (or a bounded success) within the phase timeout, never a hang, an exception or unbounded evidence.
 */
class HostileDnsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(1);

    enum Answer {
        /** The ID does not match the query's: a spoofing attempt, or a stale answer; the client must ignore it. */
        WRONG_ID(b -> {
            b[0] ^= 0x55;
            return b;
        }, false),
        /** The header promises an answer record the packet does not hold. */
        TRUNCATED_MID_RECORD(b -> Arrays.copyOf(b, b.length - 3), false),
        /** The answer's owner name is a compression pointer to itself. */
        COMPRESSION_LOOP(HostileDnsTest::selfPointer, false),
        /** Fifteen bytes of header and noise. */
        GARBAGE(b -> new byte[] {b[0], b[1], (byte) 0x81, (byte) 0x80, 0, 1, 0, 9, 0, 0, 0, 0, 7, 7, 7}, false),
        /** TC set, and the TCP retry meets a server that accepts and never answers. */
        TRUNCATED_FLAG_THEN_SILENT_TCP(HostileDnsTest::truncatedFlag, false),
        /** 600 A records (about 10 KiB) in one UDP answer, without TC: more than a plain DNS client reads. */
        OVERSIZED(b -> b, false),
        /** 30 A records that fit in 512 bytes: a success, with the addresses probed capped per family. */
        MANY_ANSWERS(b -> b, true);

        final UnaryOperator<byte[]> mangle;
        final boolean resolves;

        Answer(UnaryOperator<byte[]> mangle, boolean resolves) {
            this.mangle = mangle;
            this.resolves = resolves;
        }
    }

    private static byte[] selfPointer(byte[] answer) {
        // The answer's name sits right after the question; make it a pointer to its own offset.
        try {
            Message m = new Message(answer);
            int questionEnd = 12 + m.getQuestion().getName().toWire().length + 4;
            byte[] out = Arrays.copyOf(answer, answer.length);
            out[questionEnd] = (byte) (0xC0 | (questionEnd >> 8));
            out[questionEnd + 1] = (byte) questionEnd;
            return out;
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] truncatedFlag(byte[] answer) {
        byte[] out = Arrays.copyOf(answer, answer.length);
        out[2] |= 0x02; // TC
        return out;
    }

    /** A UDP nameserver answering every query with {@code answer}'s mangling, plus a TCP port that never answers. */
    private static final class HostileServer implements AutoCloseable {
        private final DatagramSocket udp;
        private final ServerSocket tcp;
        private final Thread thread;
        private final List<Socket> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();

        HostileServer(Answer answer) throws Exception {
            // The TCP port must be the UDP one, and another process may hold it: try fresh pairs until one binds.
            DatagramSocket u = null;
            ServerSocket t = null;
            for (int attempt = 0; t == null; attempt++) {
                u = new DatagramSocket(Loopback.address(0));
                ServerSocket candidate = new ServerSocket();
                try {
                    candidate.bind(new InetSocketAddress(Loopback.address(0).getAddress(), u.getLocalPort()));
                    t = candidate;
                } catch (java.net.BindException taken) {
                    candidate.close();
                    u.close();
                    if (attempt >= 50) {
                        throw taken;
                    }
                }
            }
            udp = u;
            tcp = t;
            Thread acceptor = new Thread(() -> {
                while (!tcp.isClosed()) {
                    try {
                        accepted.add(tcp.accept()); // and never a byte back
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            }, "hostile-dns-tcp");
            acceptor.setDaemon(true);
            acceptor.start();
            thread = new Thread(() -> serve(answer), "hostile-dns-udp");
            thread.setDaemon(true);
            thread.start();
        }

        private void serve(Answer kind) {
            byte[] buf = new byte[512];
            while (!udp.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    udp.receive(p);
                    Message query = new Message(Arrays.copyOf(p.getData(), p.getLength()));
                    Message reply = new Message(query.getHeader().getID());
                    reply.getHeader().setFlag(Flags.QR);
                    reply.getHeader().setFlag(Flags.RA);
                    reply.addRecord(query.getQuestion(), Section.QUESTION);
                    Name name = query.getQuestion().getName();
                    int count = kind == Answer.OVERSIZED ? 600 : kind == Answer.MANY_ANSWERS ? 30 : 1;
                    if (query.getQuestion().getType() == org.xbill.DNS.Type.A) {
                        for (int i = 0; i < count; i++) {
                            reply.addRecord(new ARecord(name, 1, 60, java.net.InetAddress.getByAddress(
                                    new byte[] {10, 0, (byte) (i >> 8), (byte) i})), Section.ANSWER);
                        }
                    }
                    byte[] wire = kind.mangle.apply(reply.toWire(65535));
                    udp.send(new DatagramPacket(wire, wire.length, p.getSocketAddress()));
                } catch (java.io.IOException e) {
                    if (udp.isClosed()) {
                        return;
                    }
                }
            }
        }

        InetSocketAddress address() {
            return new InetSocketAddress(Loopback.address(0).getAddress(), udp.getLocalPort());
        }

        @Override
        public void close() throws Exception {
            udp.close();
            tcp.close();
            for (Socket s : accepted) {
                s.close();
            }
            thread.join(2_000);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Answer.class)
    void hostileAnswerEndsClassifiedWithinTheTimeout(Answer answer, @TempDir Path dir) throws Exception {
        try (HostileServer server = new HostileServer(answer)) {
            Files.writeString(dir.resolve("resolv.conf"), "options ndots:1\n");
            ProbeOptions options = new ProbeOptions(TIMEOUT, 4, List.of(server.address()), dir.resolve("resolv.conf"),
                    Files.writeString(dir.resolve("hosts"), ""), List.of(), 64 * 1024);
            try (PathProber prober = new PathProber(options, 1)) {
                long t0 = System.nanoTime();
                TargetReport r = prober.probe(Target.parse("registry.test"), options, Depth.DNS)
                        .get(TIMEOUT.toMillis() * 3, TimeUnit.MILLISECONDS);
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertTrue(ms <= TIMEOUT.toMillis() + 500, answer + " took " + ms + " ms");
                if (answer.resolves) {
                    assertTrue(r.ok(), r.summary());
                    assertEquals(30, r.evidence().dns().answers().size(), r.summary());
                } else {
                    assertEquals(Category.DNS, r.outcome().category(), answer + ": " + r.summary());
                    assertTrue(!r.summary().isBlank() && !r.summary().contains("Exception"), r.summary());
                }
            }
        }
    }
}
