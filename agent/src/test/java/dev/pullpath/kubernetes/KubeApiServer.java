package dev.pullpath.kubernetes;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * fabric8's mock API server in CRUD mode (it stores what is created and patched, serves lists and watches), on
 * loopback, with the faults a real cluster has: a token it no longer accepts (401), RBAC denying everything (403),
 * answers slower than the client waits, and the server going away and coming back on the same port with its objects
 * (an API server restart behind a stable endpoint).
 */
final class KubeApiServer implements AutoCloseable {
    private final KubernetesCrudDispatcher crud = new KubernetesCrudDispatcher();
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private volatile boolean forbidden;
    private volatile boolean unauthorized;
    private volatile java.time.Duration delay = java.time.Duration.ZERO;
    private final Dispatcher gate = new Dispatcher() {
        @Override
        public MockResponse dispatch(RecordedRequest request) {
            requests.add(request.getMethod() + " " + request.getPath());
            if (unauthorized) {
                return new MockResponse().setResponseCode(401).setHeader("Content-Type", "application/json")
                        .setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":"
                                + "\"Unauthorized\",\"code\":401,\"message\":\"Unauthorized\"}");
            }
            if (forbidden) {
                return new MockResponse().setResponseCode(403).setHeader("Content-Type", "application/json")
                        .setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":"
                                + "\"Forbidden\",\"code\":403,\"message\":\"system:serviceaccount:pullpath:pullpath "
                                + "cannot do that\"}");
            }
            String path = request.getPath();
            if (path.contains("fieldSelector=spec.nodeName")) {
                // The mock filters by metadata.name and namespace only; a real API server applies this selector
                // itself (pods' spec.nodeName is a supported field). The agent checks the node of each pod too.
                path = path.replaceAll("fieldSelector=spec.nodeName%3D[^&]*&?", "").replaceAll("[?&]$", "");
                request = new RecordedRequest(request.getHttpVersion(), request.method(), path, request.getHeaders(),
                        request.getBody());
            }
            MockResponse answer = crud.dispatch(request);
            java.time.Duration d = delay;
            return d.isZero() || path.contains("watch=true") ? answer : answer.setBodyDelay(d);
        }
    };
    private KubernetesMockServer server;
    private int port;

    KubeApiServer() {
        start(0);
    }

    private void start(int wanted) {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), gate, false);
        server.init(InetAddress.getLoopbackAddress(), wanted);
        port = server.getPort();
    }

    /** The agent's client, made as the daemon makes it, pointed here. */
    KubernetesClient agentClient() {
        return KubernetesReporter.client(config());
    }

    /** The test's own client: what kubectl would see. */
    KubernetesClient kubectl() {
        return new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(config()).build();
    }

    private Config config() {
        return new ConfigBuilder(Config.empty()).withMasterUrl(url()).withNamespace("default").build();
    }

    /** Where it listens (plain HTTP on loopback). */
    String url() {
        return "http://127.0.0.1:" + port;
    }

    void forbid(boolean on) {
        forbidden = on;
    }

    /** 401 to everything: a ServiceAccount token the API server no longer accepts (expired, its account deleted). */
    void rejectToken(boolean on) {
        unauthorized = on;
    }

    /** Every answer but a watch's held back this long: an overloaded API server. */
    void slow(java.time.Duration by) {
        delay = by;
    }

    void stop() {
        server.destroy();
    }

    void restart() {
        start(port);
    }

    List<String> requests() {
        return requests;
    }

    @Override
    public void close() {
        server.destroy();
    }
}
