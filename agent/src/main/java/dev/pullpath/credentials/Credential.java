package dev.pullpath.credentials;

import java.time.Instant;

/**
 * A credential a pull could send to a registry, and where it was found. The secret never leaves this record
 * through {@link #toString()}; reports carry {@link #describe()}.
 *
 * @param registry  the host it is for, as the store names it
 * @param source    which store: {@code helm}, {@code docker}, {@code docker-credential-NAME}
 * @param location  the file (or helper) it came from
 * @param username  the user name, or null for an identity token
 * @param secret    the password or token, or null when the store only points elsewhere or could not be read
 * @param expiresAt when the credential stops working, if it says (an ECR token does), else null
 * @param problem   why it cannot be used (malformed entry, failing helper), else null
 */
public record Credential(String registry, String source, String location, String username, String secret,
                         Instant expiresAt, String problem) {

    public boolean usable() {
        return secret != null && problem == null;
    }

    /** The {@code Authorization} value a client sends with it: Basic user:secret. Only for the wire. */
    public String basicAuthorization() {
        return "Basic " + java.util.Base64.getEncoder().encodeToString((username + ":" + secret)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Where it is and what it is, never the secret: the line a report shows. */
    public String describe() {
        StringBuilder b = new StringBuilder(source).append(" (").append(location).append(") for ").append(registry);
        if (username != null) {
            b.append(", user ").append(username);
        }
        if (expiresAt != null) {
            b.append(", expires ").append(expiresAt);
        }
        if (problem != null) {
            b.append(": ").append(problem);
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return describe();
    }
}
