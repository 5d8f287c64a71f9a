package dev.pullpath.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How much of the path a configured target walks. */
public enum TargetKind {
    /** DNS, TCP, TLS every interval; registry {@code /v2/} and token every registry interval. */
    REGISTRY,
    /** DNS, TCP and TLS. */
    TLS,
    /** DNS and TCP. */
    TCP,
    /** DNS only. */
    DNS;

    /**
     * The kind a target gets when nobody said: private ECR's API hosts (the ECR API, the layer bucket) answer no
     * registry protocol, so the path to them ends at TLS; every other host is a registry.
     */
    public static TargetKind defaultFor(String host) {
        return PrivateEcr.registryApi(host) ? REGISTRY : TLS;
    }

    @JsonValue
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static TargetKind parse(String text) {
        for (TargetKind k : values()) {
            if (k.label().equalsIgnoreCase(text)) {
                return k;
            }
        }
        throw new ConfigException("unknown kind '" + text + "' (use " + Arrays.stream(values())
                .map(TargetKind::label).collect(Collectors.joining(", ")) + ")");
    }
}
