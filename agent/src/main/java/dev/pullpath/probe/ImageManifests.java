package dev.pullpath.probe;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Comparator;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.StreamSupport;

/**
 * What the layer hop reads in a manifest, as containerd reads it: an index (OCI index, Docker manifest list) is
 * resolved to this node's platform, and a manifest names its config and layers. Pure functions of the JSON.
 */
final class ImageManifests {
    private ImageManifests() {
    }

    /** A content descriptor: what a manifest says about a blob or another manifest. */
    record Descriptor(String mediaType, String digest, long size) {
    }

    /** An OS, architecture and optional variant as OCI spells them ({@code linux/arm64/v8}). */
    record Platform(String os, String architecture, String variant) {
        @Override
        public String toString() {
            return os + "/" + architecture + (variant == null || variant.isEmpty() ? "" : "/" + variant);
        }
    }

    /** This node's platform: Linux (what the kubelet runs) and the JVM's architecture as Go's GOARCH names it. */
    static Platform node() {
        String arch = goArch(System.getProperty("os.arch", ""));
        return new Platform("linux", arch, arch.equals("arm64") ? "v8" : null);
    }

    /** {@code os.arch} as Go's GOARCH: the names image indexes use. */
    static String goArch(String osArch) {
        String a = osArch.toLowerCase(Locale.ROOT);
        return switch (a) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            case "x86", "i386", "i486", "i586", "i686" -> "386";
            case "arm", "armv7l" -> "arm";
            default -> a; // ppc64le, s390x, riscv64 are spelled alike
        };
    }

    /** An index or manifest list: its {@code manifests} array, or a media type that says so. */
    static boolean isIndex(JsonNode doc, String contentType) {
        String mediaType = doc.path("mediaType").asText(contentType == null ? "" : contentType);
        return mediaType.contains("image.index") || mediaType.contains("manifest.list")
                || (doc.has("manifests") && !doc.has("layers"));
    }

    /**
     * The manifest of the index for {@code node}, as containerd's platform matcher picks it: the same OS and
     * architecture; for arm64 a variant of v8 or none; the first such entry wins. Attestations (platform
     * unknown/unknown) never match.
     */
    static Optional<Descriptor> forPlatform(JsonNode index, Platform node) {
        return StreamSupport.stream(index.path("manifests").spliterator(), false)
                .filter(m -> node.os().equals(m.path("platform").path("os").asText())
                        && node.architecture().equals(m.path("platform").path("architecture").asText())
                        && variantMatches(m.path("platform").path("variant").asText(""), node))
                .map(ImageManifests::descriptor).filter(d -> d.digest() != null).findFirst();
    }

    private static boolean variantMatches(String variant, Platform node) {
        if (variant.isEmpty() || node.variant() == null) {
            return true;
        }
        return variant.equals(node.variant());
    }

    /** The platforms an index offers, for the summary when none is this node's ({@code linux/amd64, ...}). */
    static String platforms(JsonNode index) {
        return String.join(", ", StreamSupport.stream(index.path("manifests").spliterator(), false)
                .map(m -> new Platform(m.path("platform").path("os").asText("?"),
                        m.path("platform").path("architecture").asText("?"),
                        m.path("platform").path("variant").asText(null)).toString())
                .distinct().limit(12).toList());
    }

    /** The smallest blob a manifest names, config or layer: the cheapest GET that proves the layer path. */
    static Optional<Descriptor> smallestBlob(JsonNode manifest) {
        java.util.List<Descriptor> blobs = new java.util.ArrayList<>();
        if (manifest.has("config")) {
            blobs.add(descriptor(manifest.get("config")));
        }
        manifest.path("layers").forEach(l -> blobs.add(descriptor(l)));
        return blobs.stream().filter(d -> d.digest() != null)
                .min(Comparator.comparingLong(Descriptor::size));
    }

    private static Descriptor descriptor(JsonNode d) {
        String digest = d.path("digest").asText(null);
        boolean valid = digest != null && digest.matches("[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}");
        long size = d.path("size").canConvertToLong() ? d.path("size").asLong() : Long.MAX_VALUE;
        return new Descriptor(d.path("mediaType").asText(null), valid ? digest : null, size < 0 ? Long.MAX_VALUE
                : size);
    }
}
