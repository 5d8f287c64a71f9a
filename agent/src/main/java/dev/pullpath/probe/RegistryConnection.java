package dev.pullpath.probe;

import dev.pullpath.config.Target;
import java.util.concurrent.CompletableFuture;

/**
 * Where a hop's next request to the registry goes: the walk's registry connection while it is open, else one this
 * dialed for the hop's requests, kept for the ones after it and closed by {@link #close} when the hop ends. Picked
 * when the walk's pace lets the request go ({@link Dialer#send}), so a connection the registry closed during a pause
 * is not reused; and a registry that closes its connections early (its keep-alive timeout or request limit) costs one
 * dial per closed connection, not one per request, and leaves nothing open behind the hop.
 */
final class RegistryConnection {
    private final HttpConnection registry;
    private final Target target;
    private final Dialer dialer;
    private HttpConnection dialed;
    private boolean closed;

    RegistryConnection(HttpConnection registry, Target target, Dialer dialer) {
        this.registry = registry;
        this.target = target;
        this.dialer = dialer;
    }

    /** The connection for the next request. */
    CompletableFuture<HttpConnection> get() {
        if (registry.isOpen()) {
            return CompletableFuture.completedFuture(registry);
        }
        synchronized (this) {
            if (dialed != null && dialed.isOpen()) {
                return CompletableFuture.completedFuture(dialed);
            }
        }
        return dialer.dial(target.host(), target.port()).thenApply(this::keep);
    }

    /** Keeps {@code c} for the requests after this one; the one it replaces (closed by the registry) is let go. */
    private HttpConnection keep(HttpConnection c) {
        HttpConnection old;
        boolean late;
        synchronized (this) {
            late = closed;
            old = late ? null : dialed;
            if (!late) {
                dialed = c;
            }
        }
        if (old != null) {
            old.close();
        }
        if (late) {
            // The hop ended (its deadline) while this dial ran: the request it was for fails on a closed connection.
            c.close();
        }
        return c;
    }

    /** Closes the connection this dialed, and any it dials from now on; the registry's own stays with its owner. */
    void close() {
        HttpConnection d;
        synchronized (this) {
            closed = true;
            d = dialed;
            dialed = null;
        }
        if (d != null) {
            d.close();
        }
    }
}
