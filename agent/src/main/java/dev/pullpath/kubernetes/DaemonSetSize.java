package dev.pullpath.kubernetes;

import dev.pullpath.schedule.FleetSize;
import dev.pullpath.schedule.FleetSizeWatch;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.OptionalInt;

/**
 * The fleet size as the API server says it: the agent's DaemonSet's {@code status.desiredNumberScheduled}, the nodes
 * it should run on (the ones that will check the registries), not the pods ready now, so a rollout does not shrink
 * the fleet. One {@code get} of one object per refresh; the RBAC grants exactly that (a Role in the agent's
 * namespace, {@code get} on {@code daemonsets} with this {@code resourceNames}).
 */
public final class DaemonSetSize implements FleetSizeWatch.Source, AutoCloseable {
    private final KubernetesClient client;
    private final Runnable release;
    private final String namespace;
    private final String name;

    /** With a client of its own, closed with it. */
    DaemonSetSize(KubernetesClient client, String namespace, String name) {
        this(client, client::close, namespace, name);
    }

    private DaemonSetSize(KubernetesClient client, Runnable release, String namespace, String name) {
        this.client = client;
        this.release = release;
        this.namespace = namespace;
        this.name = name;
    }

    /**
     * On the agent's shared client (the in-cluster configuration, bounded as the reporter's); a null {@code namespace} is the
     * client's own (the projected ServiceAccount's {@code namespace} file).
     */
    public static DaemonSetSize inCluster(ApiClient api, String namespace, String name) {
        KubernetesClient client = api.acquire();
        String ns = namespace != null ? namespace : client.getNamespace();
        if (ns == null) {
            api.release();
            throw new IllegalStateException("no namespace for daemonset " + name + ": set fleet.namespace or "
                    + "POD_NAMESPACE");
        }
        return new DaemonSetSize(client, api::release, ns, name);
    }

    @Override
    public String name() {
        return FleetSize.KUBERNETES;
    }

    @Override
    public OptionalInt count() {
        DaemonSet ds = client.apps().daemonSets().inNamespace(namespace).withName(name).get();
        if (ds == null) {
            throw new IllegalStateException("daemonset " + namespace + "/" + name + " not found");
        }
        Integer desired = ds.getStatus() == null ? null : ds.getStatus().getDesiredNumberScheduled();
        return desired == null || desired < 1 ? OptionalInt.empty() : OptionalInt.of(desired);
    }

    @Override
    public void close() {
        release.run();
    }
}
