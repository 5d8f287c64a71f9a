package dev.pullpath.diagnosis;

import com.fasterxml.jackson.annotation.JsonValue;

/** The hop of the pull path that failed. The label is stable API: metrics, alerts and dashboards select by it. */
public enum Category {
    NONE("none"),
    DNS("dns"),
    FIREWALL("firewall"),
    VPC_ENDPOINT("vpc_endpoint"),
    PROXY("proxy"),
    TLS("tls"),
    AUTH("auth"),
    REGISTRY("registry");

    private final String label;

    Category(String label) {
        this.label = label;
    }

    @JsonValue
    public String label() {
        return label;
    }
}
