package dev.pullpath.diagnosis;

/**
 * One host of a containerd pull path (a hosts.toml mirror, or the server) and how its probe ended.
 *
 * @param endpoint what the host is: role, URL and the settings that matter (never a header value)
 */
public record EndpointReport(String endpoint, boolean ok, String category, String reason, String summary) {
}
