package dev.pullpath.credentials;

import static dev.pullpath.credentials.ProviderConfig.*;
import static dev.pullpath.credentials.PluginProcess.*;
import static dev.pullpath.credentials.ImageReference.*;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pullpath.diagnosis.Redaction;
import dev.pullpath.gocompat.GoDuration;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** plugin.go decodeResponse and keyring.go Lookup: what a provider printed, read strictly, as credentials. */
final class ProviderResponse {
    private ProviderResponse() {
    }

    static final String RESPONSE_KIND = "CredentialProviderResponse";
    static final Set<String> CACHE_KEY_TYPES = Set.of("Image", "Registry", "Global");
    static final Set<String> RESPONSE_FIELDS = Set.of("apiVersion", "kind", "cacheKeyType", "cacheDuration",
            "serviceAccountTokenCacheType", "auth");

    /** What an answer says about keeping it: filled in by {@link #answer} for a usable answer. */
    static final class CacheHint {
        String keyType;
        Duration duration;
    }

    /** plugin.go ExecPlugin/decodeResponse and keyring.go Add/Lookup, applied to what the provider printed. */
    static List<Credential> answer(Provider p, Drain out, Drain err, String image, String registry,
                                           String source, String where, CacheHint hint) {
        String name = p.name();
        if (out.overflowed()) {
            return problem(registry, source, where, name + " printed more than 64 KiB" + stderr(err));
        }
        byte[] stdout = out.bytes();
        // Never quote stdout or the parser's message about it: it may hold the very secret being fetched.
        JsonNode root;
        try {
            root = JSON.readTree(stdout);
        } catch (JsonProcessingException e) {
            String why = e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("Duplicate field")
                    ? "repeats a field" : "is not JSON";
            return problem(registry, source, where, name + " printed an answer that " + why
                    + "; the kubelet cannot decode it" + stderr(err));
        } catch (IOException e) {
            return problem(registry, source, where, name + " printed an answer that cannot be read" + stderr(err));
        }
        if (root == null || root.isMissingNode()) {
            return problem(registry, source, where, name + " printed nothing" + stderr(err));
        }
        if (!root.isObject()) {
            return problem(registry, source, where, name + " printed JSON that is not a " + RESPONSE_KIND
                    + stderr(err));
        }
        JsonNode apiVersion = root.get("apiVersion");
        String version = apiVersion != null && apiVersion.isTextual() ? apiVersion.asText() : "";
        if (!version.equals(p.apiVersion())) {
            return problem(registry, source, where, name + " answered with apiVersion " + quote(short80(version))
                    + " but was asked in " + p.apiVersion() + "; the kubelet rejects the answer");
        }
        JsonNode kind = root.get("kind");
        String k = kind != null && kind.isTextual() ? kind.asText() : "";
        if (!RESPONSE_KIND.equals(k)) {
            return problem(registry, source, where, name + " answered kind " + quote(short80(k)) + ", not "
                    + RESPONSE_KIND + "; the kubelet rejects the answer");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!RESPONSE_FIELDS.contains(f)) {
                return problem(registry, source, where, name + " answered with an unknown field "
                        + quote(short80(f)) + "; the kubelet decodes strictly and rejects the answer");
            }
        }
        JsonNode cacheKeyType = root.get("cacheKeyType");
        String cacheKey = cacheKeyType != null && cacheKeyType.isTextual() ? cacheKeyType.asText() : "";
        if (cacheKeyType != null && !cacheKeyType.isNull() && !cacheKeyType.isTextual()) {
            return problem(registry, source, where, name + " answered a cacheKeyType that is not a string; "
                    + "the kubelet cannot decode the answer");
        }
        JsonNode cacheDuration = root.get("cacheDuration");
        if (cacheDuration != null && !cacheDuration.isNull()
                && (!cacheDuration.isTextual() || GoDuration.parse(cacheDuration.asText()) == null)) {
            return problem(registry, source, where, name + " answered a cacheDuration that is not a duration; "
                    + "the kubelet cannot decode the answer");
        }
        JsonNode auth = root.get("auth");
        if (auth != null && !auth.isNull() && !auth.isObject()) {
            return problem(registry, source, where, name + " answered an 'auth' that is not an object; "
                    + "the kubelet cannot decode the answer");
        }
        // Entries keyed by the keyring's form of the key (scheme, /v1/ or /v2/ dropped), each with its raw key.
        List<Entry> entries = new ArrayList<>();
        if (auth != null && auth.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = auth.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode v = e.getValue();
                if (!v.isNull() && !v.isObject()) {
                    return problem(registry, source, where, name + " answered an auth entry that is not an object;"
                            + " the kubelet cannot decode the answer");
                }
                String user = "";
                String pass = "";
                if (v.isObject()) {
                    for (Iterator<Map.Entry<String, JsonNode>> f = v.fields(); f.hasNext(); ) {
                        Map.Entry<String, JsonNode> field = f.next();
                        JsonNode value = field.getValue();
                        boolean known = field.getKey().equals("username") || field.getKey().equals("password");
                        if (!known || !(value.isTextual() || value.isNull())) {
                            return problem(registry, source, where, name + " answered an auth entry with "
                                    + (known ? "a non-string " : "an unknown field ") + quote(short80(field.getKey()))
                                    + "; the kubelet decodes strictly and rejects the answer");
                        }
                        if (value.isTextual()) {
                            if (field.getKey().equals("username")) {
                                user = value.asText();
                            } else {
                                pass = value.asText();
                            }
                        }
                    }
                }
                entries.add(new Entry(e.getKey(), keyringKey(e.getKey()), user, pass));
            }
        }
        if (!CACHE_KEY_TYPES.contains(cacheKey)) {
            return problem(registry, source, where, name + " answered cacheKeyType " + quote(short80(cacheKey))
                    + " (not Image, Registry or Global); the kubelet ignores the answer");
        }
        if (entries.isEmpty()) {
            return problem(registry, source, where, name + " answered with no credentials (empty 'auth'); the "
                    + "kubelet pulls without them" + stderr(err));
        }
        List<Entry> matching = new ArrayList<>();
        for (Entry e : entries) {
            if (e.key() != null && matches(e.key(), image)) {
                matching.add(e);
            }
        }
        if (matching.isEmpty() && isDefaultRegistryMatch(image)) {
            // keyring.go Lookup: credentials for index.docker.io serve Docker Hub images when nothing else matched.
            entries.stream().filter(e -> "index.docker.io".equals(e.key())).forEach(matching::add);
        }
        if (matching.isEmpty()) {
            List<String> keys = entries.stream().map(Entry::raw).sorted().toList();
            return problem(registry, source, where, name + " answered credentials only for "
                    + Redaction.snippet(String.join(", ", keys), 200) + ", none of which covers " + image
                    + "; the kubelet pulls without them");
        }
        // The keyring walks its keys in reverse lexical order: longer and non-wildcard keys before their prefixes.
        matching.sort(Comparator.comparing(Entry::key).reversed());
        List<Credential> creds = new ArrayList<>();
        for (Entry e : matching) {
            String user = e.username().isEmpty() ? null : e.username();
            creds.add(new Credential(e.raw(), source, where, user, e.password(), EcrToken.expiry(user, e.password()),
                    null));
        }
        hint.keyType = cacheKey;
        hint.duration = cacheDuration == null || cacheDuration.isNull() ? null
                : GoDuration.parse(cacheDuration.asText());
        return List.copyOf(creds);
    }

    record Entry(String raw, String key, String username, String password) {
    }

    /**
     * The request as the kubelet's JSON encoder writes it for the provider's apiVersion: TypeMeta first (kind, then
     * apiVersion), the image, a trailing newline; no service account fields since none is sent.
     */
    static byte[] request(String apiVersion, String image) {
        ObjectNode req = JSON.createObjectNode();
        req.put("kind", "CredentialProviderRequest");
        req.put("apiVersion", apiVersion);
        req.put("image", image);
        try {
            return (JSON.writeValueAsString(req) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }


    static List<Credential> problem(String registry, String source, String where, String problem) {
        return List.of(new Credential(registry, source, where, null, null, null, problem));
    }
}
