package dev.pullpath.credentials;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

/**
 * What an ECR authorization token says about itself. {@code aws ecr(-public) get-login-password} prints a token
 * that is base64 of JSON with an {@code expiration} (Unix seconds); logins store it as the password of user AWS.
 * Its expiry is therefore known without asking the registry.
 */
public final class EcrToken {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_TOKEN = 64 * 1024;

    private EcrToken() {
    }

    /** The expiry encoded in an ECR password, or null when it is not an ECR token or does not say. */
    public static Instant expiry(String username, String password) {
        if (password == null || password.length() > MAX_TOKEN || !"AWS".equals(username)) {
            return null;
        }
        try {
            byte[] decoded = Base64.getDecoder().decode(password.strip());
            JsonNode node = JSON.readTree(new String(decoded, StandardCharsets.UTF_8));
            JsonNode expiration = node == null ? null : node.get("expiration");
            if (expiration == null || !expiration.canConvertToLong()) {
                return null;
            }
            long seconds = expiration.asLong();
            return seconds > 0 && seconds < 32_503_680_000L ? Instant.ofEpochSecond(seconds) : null;
        } catch (IllegalArgumentException | java.io.IOException e) {
            return null;
        }
    }
}
