package dev.pullpath.probe;

import dev.pullpath.diagnosis.Diagnosis;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Opens an HTTP connection to another host of the path (a token realm), walking DNS, TCP and TLS for it; and paces
 * the walk's requests, wherever they go: every place that sends a request has the walk's dialer.
 */
@FunctionalInterface
interface Dialer {
    CompletableFuture<HttpConnection> dial(String host, int port);

    /** The walk's request pace: each request waits for {@code pace().turn()} before it picks its connection. */
    default RequestPace pace() {
        return RequestPace.NONE;
    }

    /**
     * One request of the walk: after its turn in the pace, on the connection {@code pick} gives then; sent once more
     * on a new pick, at once, when that connection was a reused one the server closed before answering (see
     * {@link HttpConnection#retryingReused}).
     */
    default <T> CompletableFuture<T> send(Supplier<CompletableFuture<HttpConnection>> pick,
                                          Function<HttpConnection, CompletableFuture<T>> request) {
        return pace().turn().thenCompose(v -> HttpConnection.retryingReused(() -> pick.get().thenCompose(request)));
    }

    /**
     * One request, {@link #send sent} on {@code open} while it is open (null: none to reuse), else on a connection to
     * {@code host:port} dialed for it and closed when the request ends.
     */
    default <T> CompletableFuture<T> sendOnce(HttpConnection open, String host, int port,
                                              Function<HttpConnection, CompletableFuture<T>> request) {
        return send(() -> open != null && open.isOpen() ? CompletableFuture.completedFuture(open) : dial(host, port),
                conn -> request.apply(conn).whenComplete((r, e) -> {
                    if (conn != open) {
                        conn.close();
                    }
                }));
    }

    /** A dial that failed at some hop: the diagnosis names the hop. */
    final class DialException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient Diagnosis diagnosis;

        DialException(Diagnosis diagnosis) {
            super(diagnosis.summary(), null, false, false);
            this.diagnosis = diagnosis;
        }

        Diagnosis diagnosis() {
            return diagnosis;
        }
    }
}
