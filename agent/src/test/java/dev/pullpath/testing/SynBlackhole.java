package dev.pullpath.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;

/**
 * A loopback port whose SYNs go unanswered, without a firewall: a listener that never accepts, its accept queue
 * filled by held connections. Linux drops SYNs while the accept queue is full, so a client's connect times out
 * exactly as behind a security group that drops them.
 */
public final class SynBlackhole implements AutoCloseable {
    private static final int MAX_FILLERS = 64;

    private final ServerSocket listener;
    private final List<Socket> fillers = new ArrayList<>();

    public SynBlackhole() {
        try {
            listener = new ServerSocket(0, 1, Loopback.IPV4);
            // The kernel's queue holds backlog + 1 (or more, depending on the stack): fill until a SYN goes unanswered.
            for (int i = 0; i < MAX_FILLERS; i++) {
                Socket s = new Socket();
                try {
                    s.connect(Loopback.address(listener.getLocalPort()), 300);
                    fillers.add(s);
                } catch (SocketTimeoutException full) {
                    s.close();
                    return;
                }
            }
            close();
            throw new IllegalStateException("the accept queue never filled after " + MAX_FILLERS + " connections");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set up the SYN black hole", e);
        }
    }

    public int port() {
        return listener.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        for (Socket s : fillers) {
            s.close();
        }
        listener.close();
    }
}
