package dev.pullpath.config;

/** Bad user input (flags, files, targets): reported as one line and exit code 2, never a stack trace. */
public class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
