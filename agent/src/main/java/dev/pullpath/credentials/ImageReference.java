package dev.pullpath.credentials;


import dev.pullpath.gocompat.FilepathMatch;
import dev.pullpath.gocompat.GoUrl;

/** Image references as the kubelet reads them, and its matchImages / keyring key matching (keyring.go). */
final class ImageReference {
    private ImageReference() {
    }

    /** keyring.go Add: the key the keyring indexes a DockerConfig entry under, or null when it does not parse. */
    static String keyringKey(String loc) {
        String value = loc.startsWith("https://") || loc.startsWith("http://") ? loc : "https://" + loc;
        Url u = Url.parse(value);
        if (u == null) {
            return null;
        }
        String path = u.path();
        if (path.startsWith("/v2/") || path.startsWith("/v1/")) {
            path = path.substring(3);
        }
        return !path.isEmpty() && !path.equals("/") ? u.host() + path : u.host();
    }

    /**
     * What the kubelet hands the keyring and the provider (parsers.ParseImageName → reference.Named.Name()): the
     * repository, Docker-normalised, without tag or digest. A bare registry host stays as it is.
     */
    static String repository(String image) {
        String s = image;
        if (s.indexOf('/') < 0 && s.indexOf('@') < 0 && looksLikeHost(s)) {
            return s;
        }
        int at = s.indexOf('@');
        if (at >= 0) {
            s = s.substring(0, at);
        }
        int colon = s.lastIndexOf(':');
        if (colon > s.lastIndexOf('/')) {
            s = s.substring(0, colon);
        }
        dev.pullpath.gocompat.DockerReference.Split split = dev.pullpath.gocompat.DockerReference.splitDomain(s);
        return split.domain() + "/" + split.remainder();
    }

    /** "public.ecr.aws", "localhost:5000", "[::1]:5000": a host (with a numeric port), not "busybox:1.36". */
    static boolean looksLikeHost(String s) {
        String host = s;
        if (s.startsWith("[")) {
            return true;
        }
        int colon = s.lastIndexOf(':');
        if (colon >= 0) {
            String port = s.substring(colon + 1);
            if (port.isEmpty() || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return false;
            }
            host = s.substring(0, colon);
        }
        return host.indexOf('.') >= 0 || host.equals("localhost");
    }

    static String registryOf(String image) {
        int slash = image.indexOf('/');
        return slash < 0 ? image : image.substring(0, slash);
    }

    /** keyring.go isDefaultRegistryMatch. */
    static boolean isDefaultRegistryMatch(String image) {
        int slash = image.indexOf('/');
        String first = slash < 0 ? image : image.substring(0, slash);
        if (first.isEmpty()) {
            return false;
        }
        if (slash < 0 || first.equals("docker.io") || first.equals("index.docker.io")) {
            return true;
        }
        return first.indexOf('.') < 0 && first.indexOf(':') < 0;
    }

    /**
     * The kubelet's matchImages (and auth key) semantics, keyring.go URLsMatchStr: both sides parse as URLs after
     * "https://"; the ports must be equal (none matches only none); the hosts must have the same number of
     * dot-separated parts, each matching its glob part (Go's filepath.Match: {@code *} and {@code ?} within one part,
     * {@code [...]} classes; case-sensitive); and the pattern's path must be a string prefix of the image's path.
     * Anything that does not parse, or a malformed glob, does not match.
     */
    public static boolean matches(String pattern, String image) {
        if (pattern == null || image == null) {
            return false;
        }
        Url glob = Url.parse("https://" + pattern);
        Url target = Url.parse("https://" + image);
        if (glob == null || target == null) {
            return false;
        }
        String[] g = splitHostPort(glob.host());
        String[] t = splitHostPort(target.host());
        if (!g[1].equals(t[1])) {
            return false;
        }
        String[] gParts = g[0].split("\\.", -1);
        String[] tParts = t[0].split("\\.", -1);
        if (gParts.length != tParts.length || !target.path().startsWith(glob.path())) {
            return false;
        }
        for (int i = 0; i < gParts.length; i++) {
            if (!globMatch(gParts[i], tParts[i])) {
                return false;
            }
        }
        return true;
    }

    /** net.SplitHostPort, falling back (as keyring.go SplitURL does) to the whole host and no port on error. */
    static String[] splitHostPort(String hostport) {
        String[] split = dev.pullpath.gocompat.GoStrings.splitHostPort(hostport);
        return split == null ? new String[] {hostport, ""} : split;
    }

    static boolean globMatch(String pattern, String name) {
        return FilepathMatch.match(pattern, name);
    }

    /**
     * The parts of Go's {@code url.Parse} the matching depends on: host (userinfo dropped, percent-escapes decoded)
     * and path (decoded, query and fragment dropped); null where Go returns an error. This is {@link GoUrl} in its
     * {@link GoUrl.Brackets#LENIENT} mode, plus one check kept from this class's own parser before the two were
     * merged: a control character anywhere, the fragment included, is refused (Go checks only before the '#').
     */
    record Url(String host, String path) {
        static Url parse(String raw) {
            if (raw.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                return null;
            }
            GoUrl u = GoUrl.parseOrNull(raw, GoUrl.Brackets.LENIENT);
            return u == null ? null : new Url(u.host(), u.path());
        }
    }
}
