package dev.pullpath.kubernetes;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The agent's one client of the API server, shared by the node reporter and the fleet's discovery (the Service's
 * EndpointSlices, the DaemonSet's size): each fabric8 client brings its own HTTP client (the JDK's, with its selector
 * thread, executor and connection pool) and reads the in-cluster configuration again, so three of them cost three of
 * each for the same server, token and bounds. Made on first use, with the in-cluster configuration and the
 * reporter's bounds ({@link KubernetesReporter#client}); closed when the last user lets it go. No fabric8 class is
 * loaded until then.
 */
public final class ApiClient {
    private KubernetesClient client;
    private int users;

    /** The shared client, made if none is open; each call is matched by one {@link #release}. */
    synchronized KubernetesClient acquire() {
        if (client == null) {
            client = KubernetesReporter.client(Config.autoConfigure(null));
        }
        users++;
        return client;
    }

    /** One user is done with it; the last closes it. */
    synchronized void release() {
        if (users > 0 && --users == 0) {
            client.close();
            client = null;
        }
    }
}
