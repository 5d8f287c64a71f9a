package dev.pullpath.probe;

import dev.pullpath.diagnosis.Diagnosis;
import java.util.concurrent.CompletableFuture;

/** Opens an HTTP connection to another host of the path (a token realm), walking DNS, TCP and TLS for it. */
@FunctionalInterface
interface Dialer {
    CompletableFuture<HttpConnection> dial(String host, int port);

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
