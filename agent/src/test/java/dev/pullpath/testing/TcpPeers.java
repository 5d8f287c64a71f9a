package dev.pullpath.testing;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Misbehaving TCP peers on 127.0.0.1 ephemeral ports, each modelling one way a path to a
 * registry breaks below HTTP: nothing listening, a black hole, a middlebox resetting or
 * closing on the ClientHello, or a non-TLS service on the TLS port.
 */
public final class TcpPeers {
    /** Upper bound for a peer waiting on a client, so a forgotten client cannot pin a thread. */
    private static final int READ_TIMEOUT_MILLIS = 30_000;

    private TcpPeers() {}

    /**
     * A port on 127.0.0.1 where, at the time of return, nothing listens, so connecting yields RST
     * ("connection refused"). Another process could in theory grab it afterwards; ephemeral port
     * reuse is slow enough that this is not a practical concern.
     */
    public static int closedPort() {
        try (ServerSocket s = new ServerSocket(0, 1, Loopback.IPV4)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Shared accept-loop plumbing: one daemon thread per connection, everything closed in close(). */
    public abstract static class Peer implements AutoCloseable {
        private final ServerSocket server;
        private final Set<Socket> open = ConcurrentHashMap.newKeySet();
        private final AtomicInteger connections = new AtomicInteger();
        private volatile Thread acceptor;
        private volatile boolean closed;

        protected Peer() {
            this(Loopback.address(0));
        }

        /** Bound to {@code bind}: loopback, or an address inside a network namespace the test made. */
        protected Peer(InetSocketAddress bind) {
            try {
                server = new ServerSocket();
                server.bind(bind, 50);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Called last by each subclass constructor, so handler threads never see half-built state. */
        protected final void start() {
            acceptor = daemon(getClass().getSimpleName() + "-accept-" + port(), this::acceptLoop);
        }

        public int port() {
            return server.getLocalPort();
        }

        public InetSocketAddress address() {
            return (InetSocketAddress) server.getLocalSocketAddress();
        }

        /** Connections accepted so far. */
        public int connections() {
            return connections.get();
        }

        /** Handles one accepted connection; may block. The socket is closed afterwards unless already closed. */
        protected abstract void handle(Socket socket) throws IOException;

        @Override
        public void close() {
            closed = true;
            closeQuietly(server);
            open.forEach(TcpPeers::closeQuietly);
            try {
                Thread t = acceptor;
                if (t != null) {
                    t.join(2_000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void acceptLoop() {
            while (!closed) {
                Socket s;
                try {
                    s = server.accept();
                } catch (IOException e) {
                    if (closed) {
                        return;
                    }
                    continue;
                }
                connections.incrementAndGet();
                open.add(s);
                if (closed) {
                    closeQuietly(s);
                    return;
                }
                daemon(getClass().getSimpleName() + "-conn-" + s.getPort(), () -> {
                    try {
                        s.setSoTimeout(READ_TIMEOUT_MILLIS);
                        handle(s);
                    } catch (IOException | RuntimeException e) {
                        // The client going away mid-conversation is normal for these peers.
                    } finally {
                        closeQuietly(s);
                        open.remove(s);
                    }
                });
            }
        }
    }

    /** Completes the TCP handshake, then never sends a byte: a black-holed or wedged server. */
    public static final class SilentAcceptor extends Peer {
        public SilentAcceptor() {
            start();
        }

        public SilentAcceptor(InetSocketAddress bind) {
            super(bind);
            start();
        }

        @Override
        protected void handle(Socket socket) throws IOException {
            // Keep reading so the client's writes never stall; return only when it hangs up.
            drain(socket.getInputStream());
        }
    }

    /** Reads the complete ClientHello, counts it, then ends the connection as the subclass says. */
    private abstract static class AfterClientHello extends Peer {
        private final AtomicInteger clientHellos = new AtomicInteger();

        AfterClientHello() {
        }

        AfterClientHello(InetSocketAddress bind) {
            super(bind);
        }

        public int clientHellos() {
            return clientHellos.get();
        }

        @Override
        protected void handle(Socket socket) throws IOException {
            if (readClientHello(socket.getInputStream())) {
                clientHellos.incrementAndGet();
            }
            end(socket);
        }

        abstract void end(Socket socket) throws IOException;
    }

    /** Reads the complete ClientHello, then aborts with RST (SO_LINGER 0), as some DPI firewalls do. */
    public static final class ResetAfterClientHello extends AfterClientHello {
        public ResetAfterClientHello() {
            start();
        }

        public ResetAfterClientHello(InetSocketAddress bind) {
            super(bind);
            start();
        }

        @Override
        void end(Socket socket) throws IOException {
            socket.setSoLinger(true, 0);
            socket.close();
        }
    }

    /** Reads the complete ClientHello, then closes cleanly (FIN): "remote host terminated the handshake". */
    public static final class CloseAfterClientHello extends AfterClientHello {
        public CloseAfterClientHello() {
            start();
        }

        public CloseAfterClientHello(InetSocketAddress bind) {
            super(bind);
            start();
        }

        @Override
        void end(Socket socket) throws IOException {
            finishWithFin(socket);
        }
    }

    /**
     * After the client's first bytes, answers with something that is not TLS (by default a bare
     * HTTP 400, like a plaintext server or proxy on the TLS port) and closes.
     */
    public static final class GarbageResponder extends Peer {
        public static final String DEFAULT_RESPONSE = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

        private final byte[] response;

        public GarbageResponder() {
            this(DEFAULT_RESPONSE.getBytes(StandardCharsets.US_ASCII));
        }

        public GarbageResponder(byte[] response) {
            this.response = response.clone();
            start();
        }

        @Override
        protected void handle(Socket socket) throws IOException {
            InputStream in = socket.getInputStream();
            if (in.read(new byte[4096]) < 0) {
                return;
            }
            OutputStream out = socket.getOutputStream();
            out.write(response);
            out.flush();
            finishWithFin(socket);
        }
    }

    /**
     * Reads one TLS handshake message (normally the ClientHello), however many records it spans.
     * Returns false if the bytes were not a TLS handshake; the stream is then left mid-way.
     */
    static boolean readClientHello(InputStream raw) throws IOException {
        DataInputStream in = new DataInputStream(raw);
        int needed = -1; // handshake message length incl. its 4-byte header, once known
        int got = 0;
        while (needed < 0 || got < needed) {
            int contentType = in.readUnsignedByte();
            in.readUnsignedShort(); // record version
            int length = in.readUnsignedShort();
            if (contentType != 22 || length == 0 || length > 18_432) {
                return false;
            }
            byte[] fragment = new byte[length];
            in.readFully(fragment);
            if (needed < 0) {
                if (length < 4) {
                    return false; // a handshake header split across records: not worth modelling
                }
                needed = 4 + (((fragment[1] & 0xff) << 16) | ((fragment[2] & 0xff) << 8) | (fragment[3] & 0xff));
            }
            got += length;
        }
        return true;
    }

    /**
     * Half-closes (FIN) and waits for the client to hang up before closing. Closing with unread
     * bytes in the receive buffer makes Linux send RST instead, which would turn "peer closed"
     * into "connection reset" and defeat the purpose of the FIN variants.
     */
    private static void finishWithFin(Socket socket) throws IOException {
        socket.shutdownOutput();
        drain(socket.getInputStream());
    }

    private static void drain(InputStream in) throws IOException {
        byte[] sink = new byte[4096];
        while (in.read(sink) >= 0) {
            // discard
        }
    }

    private static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // best effort
        }
    }
}
