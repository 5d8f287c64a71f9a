package dev.pullpath.deploy;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The final stage of deploy/Dockerfile, as an engine would apply it: its COPY lines, USER, EXPOSE, ENTRYPOINT and
 * CMD. The image test builds from these, so the image it starts is the one the Dockerfile describes.
 */
record Dockerfile(String base, List<Copy> copies, String user, List<String> exposed, List<String> entrypoint,
        List<String> cmd) {
    static final Path FILE = Path.of("..", "deploy", "Dockerfile").toAbsolutePath().normalize();

    /** {@code COPY [--from=STAGE] SOURCE DEST}; {@code fromStage} is null for the build context. */
    record Copy(String fromStage, String source, String destination) {
    }

    static Dockerfile read() {
        List<String> lines;
        try {
            lines = Files.readAllLines(FILE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int last = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("FROM ")) {
                last = i;
            }
        }
        if (last < 0) {
            throw new IllegalStateException("no FROM in " + FILE);
        }
        String base = lines.get(last).substring("FROM ".length()).strip();
        List<Copy> copies = new ArrayList<>();
        String user = null;
        List<String> exposed = new ArrayList<>();
        List<String> entrypoint = List.of();
        List<String> cmd = List.of();
        for (String line : lines.subList(last + 1, lines.size())) {
            String[] words = line.strip().split("\\s+", 2);
            if (words.length < 2 || line.startsWith("#")) {
                continue;
            }
            switch (words[0]) {
                case "COPY" -> {
                    String[] args = words[1].split("\\s+");
                    String from = args[0].startsWith("--from=") ? args[0].substring("--from=".length()) : null;
                    copies.add(new Copy(from, args[args.length - 2], args[args.length - 1]));
                }
                case "USER" -> user = words[1];
                case "EXPOSE" -> exposed.addAll(List.of(words[1].split("\\s+")));
                case "ENTRYPOINT" -> entrypoint = execForm(words[1]);
                case "CMD" -> cmd = execForm(words[1]);
                default -> throw new IllegalStateException("the image test does not apply " + words[0]
                        + " (deploy/Dockerfile: " + line + "); teach Dockerfile.java or OciImage.java");
            }
        }
        return new Dockerfile(base, List.copyOf(copies), user, List.copyOf(exposed), entrypoint, cmd);
    }

    /** ENTRYPOINT/CMD in exec form (a JSON array): no shell in the image to run the shell form. */
    private static List<String> execForm(String json) {
        try {
            return KubernetesTypes.JSON.readValue(json, new TypeReference<List<String>>() { });
        } catch (IOException e) {
            throw new IllegalStateException("not exec form (a JSON array): " + json, e);
        }
    }
}
