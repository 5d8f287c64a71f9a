package dev.pullpath.deploy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Manifests read into fabric8's Kubernetes model. The model keeps a field it does not know in a map instead of
 * failing (so it can read newer servers' objects), so "no unknown field" is checked by walking every object for a
 * non-empty {@code additionalProperties}: a misspelt {@code readOnlyRootFileSystem} ends up there, and would be
 * silently dropped by the API server's older versions or rejected by newer ones.
 */
final class KubernetesTypes {
    static final ObjectMapper YAML = YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();
    static final ObjectMapper JSON = JsonMapper.builder().build();

    private KubernetesTypes() {
    }

    /** Every document of a multi-document YAML stream, as its Kubernetes type; fails on a kind the model lacks. */
    static List<HasMetadata> parse(String multiDocumentYaml) {
        List<HasMetadata> resources = new ArrayList<>();
        try (var parser = YAML.createParser(multiDocumentYaml)) {
            var it = YAML.readValues(parser, KubernetesResource.class);
            while (it.hasNext()) {
                KubernetesResource r = it.next();
                assertFalse(r instanceof GenericKubernetesResource, () -> "no model type for "
                        + ((GenericKubernetesResource) r).getApiVersion() + " " + ((GenericKubernetesResource) r).getKind());
                assertTrue(r instanceof HasMetadata, () -> "not a Kubernetes object: " + r);
                resources.add((HasMetadata) r);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return resources;
    }

    /** Reads a YAML fragment (a value of the chart, say) as a model type. */
    static <T> T read(JsonNode yaml, Class<T> type) {
        try {
            return YAML.treeToValue(yaml, type);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static <T extends HasMetadata> T only(List<HasMetadata> resources, Class<T> type) {
        List<T> found = resources.stream().filter(type::isInstance).map(type::cast).toList();
        assertTrue(found.size() == 1, () -> "expected exactly one " + type.getSimpleName() + ", found " + found.size());
        return found.get(0);
    }

    static <T extends HasMetadata> Optional<T> find(List<HasMetadata> resources, Class<T> type) {
        return resources.stream().filter(type::isInstance).map(type::cast).findFirst();
    }

    /** Paths of fields the model did not recognise, anywhere under {@code root}: empty when every field is known. */
    static List<String> unknownFields(Object root) {
        List<String> found = new ArrayList<>();
        walk(root, root.getClass().getSimpleName(), found);
        return found;
    }

    private static void walk(Object value, String path, List<String> found) {
        if (value instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                walk(list.get(i), path + "[" + i + "]", found);
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> walk(v, path + "." + k, found));
            return;
        }
        if (value == null || !value.getClass().getName().startsWith("io.fabric8.")) {
            return;
        }
        for (Method m : value.getClass().getMethods()) {
            if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || !m.getName().startsWith("get")
                    || m.getDeclaringClass() == Object.class) {
                continue;
            }
            Object child;
            try {
                child = m.invoke(value);
            } catch (IllegalAccessException | InvocationTargetException e) {
                throw new IllegalStateException(path + "." + m.getName(), e);
            }
            if (m.getName().equals("getAdditionalProperties")) {
                if (child instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    found.add(path + ": " + extra.keySet());
                }
                continue;
            }
            String field = Character.toLowerCase(m.getName().charAt(3)) + m.getName().substring(4);
            walk(child, path + "." + field, found);
        }
    }
}
