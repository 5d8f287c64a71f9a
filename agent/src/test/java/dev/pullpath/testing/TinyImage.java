package dev.pullpath.testing;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tiny multi-platform OCI image, as a registry serves it: an index naming a manifest for linux/amd64, one for
 * linux/arm64 (variant v8) and a build attestation (unknown/unknown); each manifest a config (about 100 bytes) and
 * one layer (2 KiB), so the config is the smallest blob. Digests are real SHA-256 of the bytes served.
 */
public record TinyImage(Document index, Map<String, Document> manifestsByArch, Map<String, String> configByArch,
                        Map<String, byte[]> blobs) {
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

    /** A manifest or index as served: media type, JSON, digest. */
    public record Document(String mediaType, String json, String digest) {
        public static Document of(String mediaType, String json) {
            return new Document(mediaType, json, TinyImage.digest(json.getBytes(StandardCharsets.UTF_8)));
        }

        public int size() {
            return json.getBytes(StandardCharsets.UTF_8).length;
        }
    }

    public static TinyImage build(String repository) {
        Map<String, Document> manifests = new LinkedHashMap<>();
        Map<String, String> configs = new LinkedHashMap<>();
        Map<String, byte[]> blobs = new LinkedHashMap<>();
        for (String arch : List.of("amd64", "arm64")) {
            byte[] config = ("{\"architecture\":\"" + arch + "\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
                    + "\"diff_ids\":[]},\"config\":{}}").getBytes(StandardCharsets.UTF_8);
            byte[] layer = ("layer of " + repository + " for " + arch + " ").repeat(80).substring(0, 2048)
                    .getBytes(StandardCharsets.UTF_8);
            blobs.put(digest(config), config);
            blobs.put(digest(layer), layer);
            configs.put(arch, digest(config));
            manifests.put(arch, Document.of(OCI_MANIFEST, manifest(config, layer)));
        }
        Document attestation = Document.of(OCI_MANIFEST, manifest("{}".getBytes(StandardCharsets.UTF_8),
                new byte[0]));
        List<String> entries = new ArrayList<>();
        entries.add(entry(manifests.get("amd64"), "\"os\":\"linux\",\"architecture\":\"amd64\""));
        entries.add(entry(manifests.get("arm64"), "\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\""));
        entries.add(entry(attestation, "\"os\":\"unknown\",\"architecture\":\"unknown\""));
        Document index = Document.of(OCI_INDEX, "{\"schemaVersion\":2,\"mediaType\":\"" + OCI_INDEX
                + "\",\"manifests\":[" + String.join(",", entries) + "]}");
        return new TinyImage(index, manifests, configs, blobs);
    }

    /** Every manifest (per platform, and the attestation's is left out: nothing pulls it). */
    public List<Document> documents() {
        return List.copyOf(manifestsByArch.values());
    }

    /** An index offering only {@code arch}es other than this node's: for a platform that is missing. */
    public static Document indexFor(String... platforms) {
        List<String> entries = new ArrayList<>();
        for (String p : platforms) {
            String[] osArch = p.split("/");
            entries.add(entry(Document.of(OCI_MANIFEST, "{\"schemaVersion\":2,\"p\":\"" + p + "\"}"),
                    "\"os\":\"" + osArch[0] + "\",\"architecture\":\"" + osArch[1] + "\""));
        }
        return Document.of(OCI_INDEX, "{\"schemaVersion\":2,\"mediaType\":\"" + OCI_INDEX + "\",\"manifests\":["
                + String.join(",", entries) + "]}");
    }

    private static String manifest(byte[] config, byte[] layer) {
        return "{\"schemaVersion\":2,\"mediaType\":\"" + OCI_MANIFEST + "\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + digest(config) + "\",\"size\":"
                + config.length + "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
                + "\"digest\":\"" + digest(layer) + "\",\"size\":" + layer.length + "}]}";
    }

    private static String entry(Document d, String platform) {
        return "{\"mediaType\":\"" + d.mediaType() + "\",\"digest\":\"" + d.digest() + "\",\"size\":" + d.size()
                + ",\"platform\":{" + platform + "}}";
    }

    static String digest(byte[] bytes) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
