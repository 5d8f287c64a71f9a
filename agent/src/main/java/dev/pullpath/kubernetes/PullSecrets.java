package dev.pullpath.kubernetes;

import dev.pullpath.credentials.Credential;
import dev.pullpath.credentials.CredentialStores;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * A pod's imagePullSecrets, read as the kubelet reads them for a pull ({@code kubernetes.readPullSecrets}, off by
 * default: it needs {@code get secrets}). Each secret's {@code .dockerconfigjson} (or the older {@code .dockercfg})
 * entries whose key matches the image, with the kubelet's keyring rules, become logins for the probe; the secrets
 * themselves are never kept, logged or shown, only their names and what came of each.
 */
final class PullSecrets {
    /** The kubelet reads at most what the pod names; a pod naming more than this is cut here. */
    static final int MAX_SECRETS = 8;
    static final String NOT_READ = "imagePullSecrets are not read: the path was probed with the node's stored logins.";

    /**
     * What was read for one pod and image.
     *
     * @param names       the secrets the pod names, {@code namespace/name}, sorted: a diagnosis is shared only by
     *                    pods of the same image naming the same secrets
     * @param credentials the logins found for the image's registry
     * @param notes       per secret, what came of it ("2 logins for HOST", "not found", "forbidden ...")
     */
    record Found(List<String> names, List<Credential> credentials, List<String> notes) {
        static final Found NONE = new Found(List.of(), List.of(), List.of());

        /** The sentence an Event carries about the pod's secrets. */
        String sentence(boolean enabled) {
            if (!enabled) {
                return NOT_READ;
            }
            if (names.isEmpty()) {
                return "The pod names no imagePullSecrets: the path was probed with the node's stored logins.";
            }
            return "imagePullSecrets read: " + String.join("; ", notes) + ".";
        }
    }

    private PullSecrets() {
    }

    /** The secret names a pod's pull would use, without reading them (cheap: for the diagnosis key). */
    static List<String> names(Pod pod) {
        List<LocalObjectReference> refs = pod.getSpec() == null ? null : pod.getSpec().getImagePullSecrets();
        if (refs == null) {
            return List.of();
        }
        String ns = pod.getMetadata().getNamespace();
        return refs.stream().map(LocalObjectReference::getName).filter(n -> n != null && !n.isBlank()).distinct()
                .limit(MAX_SECRETS).map(n -> ns + "/" + n).sorted().toList();
    }

    /**
     * Reads each named secret (a blocking API call: never on an informer or probe thread) and the logins it holds
     * for {@code image}, as logins for {@code authority}, the host the probe walks.
     */
    static Found read(KubernetesClient client, List<String> names, String image, String authority) {
        List<Credential> found = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (String qualified : names) {
            int slash = qualified.indexOf('/');
            String ns = qualified.substring(0, slash);
            String name = qualified.substring(slash + 1);
            Secret secret;
            try {
                secret = client.secrets().inNamespace(ns).withName(name).get();
            } catch (KubernetesClientException e) {
                notes.add(qualified + " could not be read (" + (e.getCode() == 403
                        ? "403 forbidden: the agent's ClusterRole needs get on secrets"
                        : e.getCode() > 0 ? "HTTP " + e.getCode() : "no answer from the API") + ")");
                continue;
            }
            if (secret == null) {
                notes.add(qualified + " not found (the kubelet pulls without it)");
                continue;
            }
            List<Credential> logins = logins(secret, qualified, image, authority);
            found.addAll(logins);
            long usable = logins.stream().filter(Credential::usable).count();
            long unusable = logins.size() - usable;
            notes.add(qualified + ": " + (logins.isEmpty() ? "no login" : plural(usable)) + " for " + authority
                    + (unusable > 0 ? ", " + unusable + " unusable" : ""));
        }
        return new Found(names, found, notes);
    }

    /** The logins in one secret for {@code image} (pure: no API call). */
    static List<Credential> logins(Secret secret, String qualified, String image, String authority) {
        Map<String, String> data = secret.getData() == null ? Map.of() : secret.getData();
        // The kubelet looks for .dockerconfigjson first, then .dockercfg, whatever the secret's type says.
        for (String key : List.of(".dockerconfigjson", ".dockercfg")) {
            String encoded = data.get(key);
            if (encoded == null || encoded.isEmpty()) {
                continue;
            }
            String where = "secret " + qualified + " " + key;
            byte[] json;
            try {
                json = Base64.getMimeDecoder().decode(encoded);
            } catch (IllegalArgumentException e) {
                return List.of(new Credential(authority, "imagePullSecret", where, null, null, null,
                        key + " is not base64"));
            }
            return CredentialStores.fromDocument("imagePullSecret", where, json, image, authority);
        }
        return List.of();
    }

    private static String plural(long n) {
        return n == 1 ? "1 login" : n + " logins";
    }
}
