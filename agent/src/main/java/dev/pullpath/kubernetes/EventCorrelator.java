package dev.pullpath.kubernetes;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends Events as Kubernetes' own EventCorrelator would: a repeat of one created within the aggregation window
 * (same object, reason and message) counts up the existing Event instead of creating another. Bounded: at most
 * {@value #MAX_REMEMBERED} Events remembered, none older than the window.
 */
final class EventCorrelator {
    private static final Logger LOG = LoggerFactory.getLogger(EventCorrelator.class);
    /** Kubernetes' EventCorrelator keeps repeats for 10 minutes; an older repeat starts a new Event. */
    private static final Duration AGGREGATION_WINDOW = Duration.ofMinutes(10);
    private static final int MAX_REMEMBERED = 512;

    private final KubernetesClient client;
    private final Clock clock;
    private final Map<Key, Aggregate> aggregates = new LinkedHashMap<>();

    /** What makes two Events the same for the correlator. */
    private record Key(String namespace, String kind, String name, String fieldPath, String reason, String message) {
        static Key of(Event e) {
            ObjectReference o = e.getInvolvedObject();
            return new Key(e.getMetadata().getNamespace(), o.getKind(), o.getName(),
                    Objects.toString(o.getFieldPath(), ""), e.getReason(), e.getMessage());
        }
    }

    /** An Event already created, with how often it has been seen. */
    private record Aggregate(String namespace, String name, int count, Instant first, Instant last) {
    }

    EventCorrelator(KubernetesClient client, Clock clock) {
        this.client = client;
        this.clock = clock;
    }

    /**
     * Creates the Event, or counts a repeat (count + 1, new lastTimestamp).
     *
     * @return true once the Event is out, or refused for good (then dropped, not retried)
     * @throws KubernetesClientException when the API could not be reached or refused for now: try again later
     */
    boolean post(Event e) {
        Key key = Key.of(e);
        ObjectReference o = e.getInvolvedObject();
        Instant now = clock.instant();
        Aggregate seen;
        synchronized (this) {
            seen = aggregates.get(key);
            aggregates.values().removeIf(a -> Duration.between(a.last(), now).compareTo(AGGREGATION_WINDOW) > 0);
        }
        try {
            if (seen != null && Duration.between(seen.last(), now).compareTo(AGGREGATION_WINDOW) <= 0) {
                int count = seen.count() + 1;
                String patch = "{\"count\":" + count + ",\"lastTimestamp\":\""
                        + now.truncatedTo(ChronoUnit.SECONDS) + "\"}";
                try {
                    client.v1().events().inNamespace(seen.namespace()).withName(seen.name())
                            .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
                    remember(key, new Aggregate(seen.namespace(), seen.name(), count, seen.first(), now));
                    return true;
                } catch (KubernetesClientException gone) {
                    if (gone.getCode() != 404) {
                        throw gone;
                    }
                    // The API server's event TTL removed it: start a new one.
                }
            }
            client.v1().events().inNamespace(e.getMetadata().getNamespace()).resource(e).create();
            remember(key, new Aggregate(e.getMetadata().getNamespace(), e.getMetadata().getName(), 1, now, now));
            return true;
        } catch (KubernetesClientException k) {
            if (k.getCode() == 400 || k.getCode() == 404 || k.getCode() == 409 || k.getCode() == 422) {
                // The object's namespace is gone, or the Event is invalid: retrying will not help.
                LOG.warn("Kubernetes API refused {} Event on {} {}: {} {}", e.getReason(), o.getKind(), o.getName(),
                        k.getCode(), k.getStatus() == null ? "" : k.getStatus().getMessage());
                return true;
            }
            throw k;
        }
    }

    private synchronized void remember(Key key, Aggregate a) {
        aggregates.remove(key);
        aggregates.put(key, a);
        while (aggregates.size() > MAX_REMEMBERED) {
            aggregates.remove(aggregates.keySet().iterator().next());
        }
    }
}
