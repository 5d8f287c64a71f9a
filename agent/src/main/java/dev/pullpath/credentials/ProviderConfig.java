package dev.pullpath.credentials;


import dev.pullpath.files.BoundedFile;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pullpath.diagnosis.Redaction;
import dev.pullpath.gocompat.GoDuration;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The kubelet's CredentialProviderConfig as config.go reads it: a file or directory, decoded strictly. */
final class ProviderConfig {
    private ProviderConfig() {
    }

    static final long MAX_CONFIG = 1024 * 1024;
    static final int MAX_CONFIG_FILES = 64;
    static final String CONFIG_KIND = "CredentialProviderConfig";
    static final String CONFIG_GROUP = "kubelet.config.k8s.io";
    static final Set<String> CONFIG_VERSIONS = Set.of(CONFIG_GROUP + "/v1", CONFIG_GROUP + "/v1beta1",
            CONFIG_GROUP + "/v1alpha1");
    static final Set<String> CONFIG_FIELDS = Set.of("apiVersion", "kind", "providers");
    static final Set<String> PROVIDER_FIELDS = Set.of("name", "matchImages", "defaultCacheDuration",
            "apiVersion", "args", "env", "tokenAttributes");

    // Strict like the kubelet's codecs (serializer.EnableStrict): a repeated field is an error, as is trailing
    // content after the JSON value (Go's json.Unmarshal refuses it).
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    record Provider(String name, List<String> matchImages, Duration defaultCacheDuration, String apiVersion,
                            List<String> args, Map<String, String> env, boolean tokenAttributes) {
    }

    /** config.go readCredentialProviderConfig: a file, or a directory of *.json/*.yaml/*.yml merged in order. */
    static List<Provider> readConfig(Path path) {
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(path)) {
            try (DirectoryStream<Path> dir = Files.newDirectoryStream(path)) {
                for (Path f : dir) {
                    String n = f.getFileName().toString();
                    if (!Files.isDirectory(f) && (n.endsWith(".json") || n.endsWith(".yaml") || n.endsWith(".yml"))) {
                        files.add(f);
                    }
                    if (files.size() > MAX_CONFIG_FILES) {
                        throw new ProviderConfigException("more than " + MAX_CONFIG_FILES + " configuration files in "
                                + path + "; not read");
                    }
                }
            } catch (IOException | SecurityException e) {
                throw new ProviderConfigException("cannot list the configuration directory " + path);
            }
            files.sort(Comparator.comparing(Path::toString));
            if (files.isEmpty()) {
                throw new ProviderConfigException("no configuration files (*.json, *.yaml, *.yml) in directory " + path);
            }
        } else {
            files.add(path);
        }
        List<Provider> merged = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Path f : files) {
            for (Provider p : decode(f)) {
                if (!names.add(p.name())) {
                    throw new ProviderConfigException("duplicate provider name \"" + p.name() + "\" in the configuration");
                }
                merged.add(p);
            }
        }
        return merged;
    }

    static List<Provider> decode(Path file) {
        byte[] data;
        try {
            data = BoundedFile.read(file, MAX_CONFIG);
        } catch (BoundedFile.TooLarge e) {
            throw new ProviderConfigException(file + " is larger than 1 MiB; not read");
        } catch (NoSuchFileException e) {
            throw new ProviderConfigException(file + " disappeared while being read");
        } catch (IOException | SecurityException e) {
            throw new ProviderConfigException("cannot read " + file);
        }
        String where = "in " + file + ": ";
        JsonNode root;
        try {
            // Like the kubelet's universal decoder: JSON if it starts with '{', else YAML (of which JSON is a subset,
            // but a YAML parser is laxer about JSON than a JSON parser).
            root = startsWithBrace(data) ? JSON.readTree(data) : YAML.readTree(data);
        } catch (IOException e) {
            String message = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            if (message != null && message.startsWith("Duplicate field")) {
                int end = message.indexOf('\'', message.indexOf('\'') + 1);
                message = end > 0 ? message.substring(0, end + 1) : "Duplicate field";
            }
            throw new ProviderConfigException(where + "not valid " + (startsWithBrace(data) ? "JSON" : "YAML") + " ("
                    + firstLine(message) + ")");
        }
        if (root == null || root.isMissingNode() || !root.isObject()) {
            throw new ProviderConfigException(where + "not a " + CONFIG_KIND + " object");
        }
        String kind = text(root, "kind", where);
        String apiVersion = text(root, "apiVersion", where);
        if (kind.isEmpty()) {
            throw new ProviderConfigException(where + "'kind' is missing (expected " + CONFIG_KIND + ")");
        }
        if (apiVersion.isEmpty()) {
            throw new ProviderConfigException(where + "'apiVersion' is missing (expected " + CONFIG_GROUP + "/v1)");
        }
        if (!apiVersion.startsWith(CONFIG_GROUP + "/")) {
            throw new ProviderConfigException(where + "apiVersion " + quote(apiVersion) + " is not in group " + CONFIG_GROUP);
        }
        if (!CONFIG_VERSIONS.contains(apiVersion)) {
            throw new ProviderConfigException(where + "apiVersion " + quote(apiVersion) + " is not one the kubelet knows "
                    + "(" + CONFIG_GROUP + "/v1, v1beta1, v1alpha1)");
        }
        if (!CONFIG_KIND.equals(kind)) {
            throw new ProviderConfigException(where + "kind " + quote(kind) + " is not " + CONFIG_KIND);
        }
        strictFields(root, CONFIG_FIELDS, where);
        JsonNode list = root.get("providers");
        List<Provider> providers = new ArrayList<>();
        if (list == null || list.isNull()) {
            return providers;
        }
        if (!list.isArray()) {
            throw new ProviderConfigException(where + "'providers' must be a list");
        }
        int i = 0;
        for (JsonNode node : list) {
            String at = where + "providers[" + i++ + "]";
            if (!node.isObject()) {
                throw new ProviderConfigException(at + " must be an object");
            }
            strictFields(node, PROVIDER_FIELDS, at + ": ");
            JsonNode duration = node.get("defaultCacheDuration");
            Duration cache = null;
            if (duration != null && !duration.isNull()) {
                if (!duration.isTextual()) {
                    throw new ProviderConfigException(at + ".defaultCacheDuration must be a duration string such as \"12h\"");
                }
                cache = GoDuration.parse(duration.asText());
                if (cache == null) {
                    throw new ProviderConfigException(at + ".defaultCacheDuration " + quote(duration.asText())
                            + " is not a duration (such as \"12h\")");
                }
            }
            Map<String, String> env = new LinkedHashMap<>();
            JsonNode envList = node.get("env");
            if (envList != null && !envList.isNull()) {
                if (!envList.isArray()) {
                    throw new ProviderConfigException(at + ".env must be a list of {name, value}");
                }
                int j = 0;
                for (JsonNode e : envList) {
                    String eat = at + ".env[" + j++ + "]";
                    if (!e.isObject()) {
                        throw new ProviderConfigException(eat + " must be an object with name and value");
                    }
                    strictFields(e, Set.of("name", "value"), eat + ": ");
                    env.put(text(e, "name", eat + "."), text(e, "value", eat + "."));
                }
            }
            JsonNode token = node.get("tokenAttributes");
            if (token != null && !token.isNull() && !token.isObject()) {
                throw new ProviderConfigException(at + ".tokenAttributes must be an object");
            }
            providers.add(new Provider(text(node, "name", at + "."), strings(node, "matchImages", at + "."), cache,
                    text(node, "apiVersion", at + "."), strings(node, "args", at + "."), env,
                    token != null && token.isObject()));
        }
        return providers;
    }

    /** Go's encoding/json into a string field: absent or null is "", anything but a string is an error. */
    static String text(JsonNode node, String field, String where) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return "";
        }
        if (!v.isTextual()) {
            throw new ProviderConfigException(where + field + " must be a string");
        }
        return v.asText();
    }

    static List<String> strings(JsonNode node, String field, String where) {
        JsonNode v = node.get(field);
        List<String> out = new ArrayList<>();
        if (v == null || v.isNull()) {
            return out;
        }
        if (!v.isArray()) {
            throw new ProviderConfigException(where + field + " must be a list of strings");
        }
        for (JsonNode e : v) {
            if (e.isNull()) {
                out.add("");
            } else if (e.isTextual()) {
                out.add(e.asText());
            } else {
                throw new ProviderConfigException(where + field + " must be a list of strings");
            }
        }
        return out;
    }

    static void strictFields(JsonNode node, Set<String> allowed, String where) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw new ProviderConfigException(where + "unknown field " + quote(short80(f))
                        + " (the kubelet decodes strictly)");
            }
        }
    }

    static boolean startsWithBrace(byte[] data) {
        for (byte b : data) {
            if (b == '{') {
                return true;
            }
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return false;
            }
        }
        return false;
    }

    static String quote(String s) {
        return "\"" + s + "\"";
    }

    static String short80(String s) {
        return Redaction.snippet(s, 80);
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return Redaction.snippet(nl < 0 ? s : s.substring(0, nl), 160);
    }
}
