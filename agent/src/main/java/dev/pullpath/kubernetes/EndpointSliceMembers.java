package dev.pullpath.kubernetes;

import dev.pullpath.schedule.FleetRank;
import dev.pullpath.schedule.FleetSizeWatch;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet's members as the agent's headless Service lists them: its EndpointSlices (label
 * {@code kubernetes.io/service-name}) in the agent's namespace, each endpoint with the {@code nodeName} it runs on.
 * The distinct node names are the fleet (its size), and this node's position among them, sorted, its rank: every
 * node sorts the same list, so every node gets a different slot.
 *
 * <p>Why EndpointSlices and not pods or nodes: a list of 5,000 pods is several KB each, tens of MB per list, asked by
 * 5,000 nodes: O(N²) bytes for the API server. An endpoint is far smaller (address, nodeName, conditions,
 * targetRef, zone: 274 bytes of JSON), in slices of at most 100 (1.4 KB of metadata each): 1.44 MB per list at
 * 5,000 nodes, against about 30 MB for their pods (see the README's fleet section for the fleet-wide rate).
 * The Service publishes not-ready addresses, so a starting agent finds itself before its readiness probe passes.
 * RBAC: {@code list} on {@code discovery.k8s.io} {@code endpointslices}, in the agent's namespace only.
 */
public final class EndpointSliceMembers implements FleetSizeWatch.Source, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EndpointSliceMembers.class);

    private final KubernetesClient client;
    private final Runnable release;
    private final String namespace;
    private final String service;
    private final String node;
    private final Clock clock;
    private String lastProblem;

    /** With a client of its own, closed with it. */
    EndpointSliceMembers(KubernetesClient client, String namespace, String service, String node, Clock clock) {
        this(client, client::close, namespace, service, node, clock);
    }

    private EndpointSliceMembers(KubernetesClient client, Runnable release, String namespace, String service,
                                 String node, Clock clock) {
        this.client = client;
        this.release = release;
        this.namespace = namespace;
        this.service = service;
        this.node = node;
        this.clock = clock;
    }

    /**
     * On the agent's shared client; {@code service} may be the Service's DNS name (its first label is the
     * Service's name), a null {@code namespace} is the client's own.
     */
    public static EndpointSliceMembers inCluster(ApiClient api, String namespace, String service, String node,
                                                 Clock clock) {
        KubernetesClient client = api.acquire();
        String ns = namespace != null ? namespace : client.getNamespace();
        if (ns == null) {
            api.release();
            throw new IllegalStateException("no namespace for service " + service + ": set fleet.namespace or "
                    + "POD_NAMESPACE");
        }
        return new EndpointSliceMembers(client, api::release, ns, serviceName(service), node, clock);
    }

    /** {@code pullpath} of {@code pullpath.pullpath.svc.cluster.local}. */
    static String serviceName(String dnsName) {
        int dot = dnsName.indexOf('.');
        return dot < 0 ? dnsName : dnsName.substring(0, dot);
    }

    @Override
    public boolean ranks() {
        return true;
    }

    @Override
    public String name() {
        return FleetRank.ENDPOINT_SLICES;
    }

    @Override
    public OptionalInt count() throws Exception {
        FleetSizeWatch.Members m = members();
        return m == null ? OptionalInt.empty() : OptionalInt.of(m.count());
    }

    /**
     * One list per refresh. A refusal (403: the Role not granted, an older chart) or an unreachable API server is
     * logged once per kind of problem and answers nothing, so the next source (the DaemonSet, DNS) counts and the
     * cadence stays random; a list without this node (not published yet) gives the count and no rank.
     */
    @Override
    public FleetSizeWatch.Members members() {
        Set<String> nodes = new TreeSet<>();
        try {
            for (EndpointSlice slice : client.discovery().v1().endpointSlices().inNamespace(namespace)
                    .withLabel("kubernetes.io/service-name", service)
                    // resourceVersion=0: from the API server's watch cache, no quorum read of etcd per node.
                    .list(new io.fabric8.kubernetes.api.model.ListOptionsBuilder().withResourceVersion("0").build())
                    .getItems()) {
                if (slice.getEndpoints() == null) {
                    continue;
                }
                for (Endpoint e : slice.getEndpoints()) {
                    if (e.getNodeName() != null && !e.getNodeName().isEmpty()) {
                        nodes.add(e.getNodeName());
                    }
                }
            }
        } catch (KubernetesClientException e) {
            String problem = e.getCode() == 0 ? "API server unreachable" : "HTTP " + e.getCode();
            if (!problem.equals(lastProblem)) {
                LOG.warn("endpointslices of service {}/{} not listed ({}: {}); the fleet's slots wait, its size "
                        + "comes from the next source", namespace, service, problem, e.getMessage());
            }
            lastProblem = problem;
            return null;
        }
        lastProblem = null;
        if (nodes.isEmpty()) {
            return null;
        }
        FleetRank rank = FleetRank.of(nodes, node, FleetRank.ENDPOINT_SLICES, clock.instant());
        return new FleetSizeWatch.Members(nodes.size(), rank);
    }

    @Override
    public void close() {
        release.run();
    }
}
