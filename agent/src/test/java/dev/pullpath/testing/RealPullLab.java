package dev.pullpath.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A real registry and a real layer host on the namespace lab, for pulls by clients nobody here wrote:
 * <pre>
 *   client ── router ── server: nginx 198.51.100.10:443 registry.test  ─┐ blob GETs: 307 to https://cdn.test/...
 *                               nginx 198.51.100.11:443 basic.test     ─┤ (the rest proxied to Distribution)
 *                               nginx 198.51.100.12:443 bearer.test    ─┤ /token: the token service
 *                               nginx 198.51.100.20:443 cdn.test         serves the blobs from files ("the CDN")
 *                               tinyproxy 198.51.100.30:3128 (registry.test only), :3129 (registry.test, cdn.test)
 *                               docker-registry 127.0.0.1:5000 (anonymous), :5001 (htpasswd), :5002 (token)
 * </pre>
 * Debian's docker-registry (CNCF Distribution 2.8) holds a one-layer image the lab builds as an OCI layout and
 * pushes with skopeo; the registry and the CDN have certificates of the lab's CA. Names resolve from
 * {@code /etc/netns/NAME/hosts}, which {@code ip netns exec} mounts over {@code /etc/hosts}, so Go clients and
 * pullpath read the same file. The CDN answers 403 with an S3 {@code AccessDenied} body while {@link #cdnDenies}
 * is on. Everything (processes by PID, namespaces, the /etc/netns entries) is removed in {@link #close()}.
 */
public final class RealPullLab implements AutoCloseable {
    public static final String REGISTRY = "registry.test";
    public static final String BASIC = "basic.test";
    /** Distribution with token auth: anonymous pulls get a token, a stale login is refused (ECR Public's way). */
    public static final String BEARER = "bearer.test";
    /** How long {@link #BEARER}'s nginx keeps an idle connection open. */
    public static final int BEARER_IDLE_SECONDS = 2;
    public static final String CDN = "cdn.test";
    /** A layer host the lab's resolver answers NXDOMAIN for (and no hosts file names). */
    public static final String UNRESOLVABLE_CDN = "layers.nowhere.test";
    public static final String REGISTRY_ADDRESS = NetworkLab.SERVER;
    public static final String BASIC_ADDRESS = NetworkLab.SERVER_SECOND;
    public static final String BEARER_ADDRESS = "198.51.100.12";
    public static final String CDN_ADDRESS = "198.51.100.20";
    public static final String PROXY_ADDRESS = "198.51.100.30";
    /** The proxy whose allowlist has the registry but not the layer host. */
    public static final String PROXY_REGISTRY_ONLY = "http://" + PROXY_ADDRESS + ":3128";
    /** The proxy that allows both. */
    public static final String PROXY_BOTH = "http://" + PROXY_ADDRESS + ":3129";
    public static final String REPOSITORY = "lab/tiny";
    public static final String TAG = "1";
    public static final String USER = "puller";
    public static final String PASSWORD = "pu11-s3cret";

    private final NetworkLab net;
    private final Path work;
    private final Path cdnDeny;
    private final Path redirectUnresolvable;
    private final Path caPem;
    private final List<Path> netnsEtc = new ArrayList<>();
    private String interceptor;

    private RealPullLab(NetworkLab net) {
        this.net = net;
        this.work = net.work();
        this.cdnDeny = work.resolve("cdn-deny");
        this.redirectUnresolvable = work.resolve("redirect-unresolvable");
        this.caPem = work.resolve("ca.pem");
    }

    /** Builds the lab; skips (fails under CI=true) when a peer program is missing. */
    public static RealPullLab start() throws Exception {
        Netns.assumeTool("docker-registry", "nginx", "skopeo", "tinyproxy", "dnsmasq", "htpasswd", "tar", "gzip");
        NetworkLab net = NetworkLab.start();
        RealPullLab lab = new RealPullLab(net);
        try {
            lab.build();
            return lab;
        } catch (Exception | Error e) {
            lab.close();
            throw e;
        }
    }

    private void build() throws Exception {
        for (String a : List.of(BEARER_ADDRESS, CDN_ADDRESS, PROXY_ADDRESS)) {
            net.server().exec("ip", "addr", "add", a + "/24", "dev", "s0");
        }
        String hosts = "127.0.0.1 localhost\n" + REGISTRY_ADDRESS + " " + REGISTRY + "\n" + BASIC_ADDRESS + " "
                + BASIC + "\n" + BEARER_ADDRESS + " " + BEARER + "\n" + CDN_ADDRESS + " " + CDN + "\n";
        // Every name comes from the hosts file, for each client alike; the lab's resolver only says NXDOMAIN.
        for (Netns ns : List.of(net.client(), net.server())) {
            Path etc = Path.of("/etc/netns", ns.name());
            Files.createDirectories(etc);
            netnsEtc.add(etc);
            Files.writeString(etc.resolve("hosts"), hosts);
            Files.writeString(etc.resolve("resolv.conf"), "nameserver " + NetworkLab.SERVER_DNS + "\n");
        }

        TestPki.Ca ca = TestPki.newCa("CN=pullpath real-pull lab CA");
        ca.writePem(caPem);
        for (String name : List.of(REGISTRY, BASIC, BEARER, CDN, "token-signer")) {
            TestPki.Issued cert = ca.issueFor(name);
            cert.writeChainPem(work.resolve(name + ".pem"));
            cert.writeKeyPem(work.resolve(name + ".key"));
        }
        Path blobs = Files.createDirectories(work.resolve("cdn-blobs"));
        Path layout = OciLayout.write(work.resolve("oci"), blobs);

        registry("open", 5000, "");
        Path htpasswd = work.resolve("htpasswd");
        Files.writeString(htpasswd, Netns.runOnHost(Duration.ofSeconds(30),
                List.of("htpasswd", "-Bbn", USER, PASSWORD)).out().strip() + "\n");
        registry("basic", 5001, "auth:\n  htpasswd:\n    realm: lab\n    path: " + htpasswd + "\n");
        push(layout, 5000, null);
        push(layout, 5001, USER + ":" + PASSWORD);
        // The token registry grants pull only: it starts on a copy of the open registry's storage instead.
        copyTree(work.resolve("registry-open/data"), work.resolve("registry-bearer/data"));
        registry("bearer", 5002, "auth:\n  token:\n    realm: https://" + BEARER + "/token\n    service: " + BEARER
                + "\n    issuer: lab-token-issuer\n    rootcertbundle: " + caPem + "\n");
        net.javaPeer(net.server(), "dev.pullpath.testing.LabPeers", List.of("127.0.0.1", "token:5100:"
                + work.resolve("token-signer.pem") + ":" + work.resolve("token-signer.key") + ":" + BEARER + ":" + USER
                + ":" + PASSWORD), "ready");
        nginx(blobs);
        net.resolver("--address=/" + UNRESOLVABLE_CDN + "/");
        tinyproxy(3128, List.of(REGISTRY));
        tinyproxy(3129, List.of(REGISTRY, CDN));
    }

    private void registry(String name, int port, String auth) throws Exception {
        Path dir = Files.createDirectories(work.resolve("registry-" + name));
        Path config = Files.writeString(dir.resolve("config.yml"), "version: 0.1\nlog:\n  level: info\n"
                + "storage:\n  filesystem:\n    rootdirectory: " + dir.resolve("data") + "\n"
                + "http:\n  addr: 127.0.0.1:" + port + "\n  secret: lab-" + name + "\n" + auth);
        net.peer(net.server(), List.of("docker-registry", "serve", config.toString()), "listening on",
                Duration.ofSeconds(20));
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (var files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target);
                }
            }
        }
    }

    private void push(Path layout, int port, String creds) {
        List<String> cmd = new ArrayList<>(List.of("skopeo", "--insecure-policy", "copy", "--dest-tls-verify=false"));
        if (creds != null) {
            cmd.addAll(List.of("--dest-creds", creds));
        }
        cmd.addAll(List.of("oci:" + layout + ":" + TAG, "docker://127.0.0.1:" + port + "/" + REPOSITORY + ":" + TAG));
        Netns.Result r = net.server().run(Duration.ofSeconds(60), cmd.toArray(String[]::new));
        if (r.exitCode() != 0) {
            throw new IllegalStateException("skopeo push to :" + port + " failed: " + r.out() + r.err());
        }
    }

    private void nginx(Path blobs) throws Exception {
        Path dir = Files.createDirectories(work.resolve("nginx"));
        StringBuilder conf = new StringBuilder("user root;\nworker_processes 1;\ndaemon off;\npid " + dir.resolve("pid")
                + ";\nerror_log " + dir.resolve("error.log") + " info;\nevents { worker_connections 64; }\nhttp {\n"
                + "  log_format hosts '$server_name $request_method $request_uri $status $msec $connection';\n"
                + "  access_log " + dir.resolve("access.log") + " hosts;\n"
                + "  client_body_temp_path " + dir + "/body; proxy_temp_path " + dir + "/proxy;\n"
                + "  fastcgi_temp_path " + dir + "/fcgi; uwsgi_temp_path " + dir + "/uwsgi; scgi_temp_path " + dir
                + "/scgi;\n  client_max_body_size 0;\n");
        conf.append(front(REGISTRY, REGISTRY_ADDRESS, 5000, "")).append(front(BASIC, BASIC_ADDRESS, 5001, ""))
                .append(front(BEARER, BEARER_ADDRESS, 5002, "    location /token { proxy_pass http://127.0.0.1:5100; }\n"
                        // A registry that closes a connection idle for 2 s (nginx's default is 75 s): a client that
                        // waits between its requests must notice and dial again, as Go's client does.
                        + "    keepalive_timeout " + BEARER_IDLE_SECONDS + "s;\n"));
        // The CDN: blobs by digest, Range honoured by nginx's static module; 403 with S3's body while denied.
        conf.append("  server {\n    listen ").append(CDN_ADDRESS).append(":443 ssl;\n    server_name ").append(CDN)
                .append(";\n").append(tls(CDN))
                .append("    location ~ \"^/v2/.+/blobs/sha256:([0-9a-f]{64})$\" {\n      if (-f ").append(cdnDeny)
                .append(") {\n        add_header Content-Type application/xml always;\n        return 403 '<?xml "
                        + "version=\"1.0\" encoding=\"UTF-8\"?>\\n<Error><Code>AccessDenied</Code><Message>Access "
                        + "Denied</Message><RequestId>LAB0001</RequestId></Error>';\n      }\n      root ")
                .append(blobs).append(";\n      try_files /$1 =404;\n    }\n    location / { return 404; }\n  }\n}\n");
        Path file = Files.writeString(dir.resolve("nginx.conf"), conf);
        net.peer(net.server(), List.of("nginx", "-c", file.toString(), "-e", dir.resolve("error.log").toString()),
                null, Duration.ofSeconds(5));
        awaitListening(List.of(REGISTRY_ADDRESS + ":443", BASIC_ADDRESS + ":443", BEARER_ADDRESS + ":443",
                CDN_ADDRESS + ":443"));
    }

    /** A registry front: TLS, blob GETs redirected to the CDN as ECR and Docker Hub do, the rest proxied. */
    private String front(String name, String address, int upstream, String more) {
        return "  server {\n    listen " + address + ":443 ssl;\n    server_name " + name + ";\n" + tls(name) + more
                + "    location ~ ^/v2/.+/blobs/sha256: {\n      set $layers https://" + CDN + ";\n"
                + "      if (-f " + redirectUnresolvable + ") {\n        set $layers https://" + UNRESOLVABLE_CDN + ";\n"
                + "      }\n      if ($request_method = GET) {\n        return 307 $layers$request_uri;\n      }\n"
                + "      proxy_pass http://127.0.0.1:"
                + upstream + ";\n      proxy_set_header Host $http_host;\n    }\n"
                + "    location / {\n      proxy_pass http://127.0.0.1:" + upstream + ";\n"
                + "      proxy_set_header Host $http_host;\n      proxy_set_header X-Forwarded-Proto https;\n"
                + "    }\n  }\n";
    }

    private String tls(String name) {
        return "    ssl_certificate " + work.resolve(name + ".pem") + ";\n    ssl_certificate_key "
                + work.resolve(name + ".key") + ";\n    ssl_protocols TLSv1.2 TLSv1.3;\n";
    }

    private void tinyproxy(int port, List<String> allowed) throws Exception {
        Path filter = Files.writeString(work.resolve("tinyproxy-" + port + ".filter"),
                String.join("\n", allowed.stream().map(h -> "^" + h.replace(".", "\\.") + "$").toList()) + "\n");
        Path conf = Files.writeString(work.resolve("tinyproxy-" + port + ".conf"), "Port " + port + "\nListen "
                + PROXY_ADDRESS + "\nTimeout 10\nMaxClients 20\nAllow 10.0.0.0/8\nLogLevel Info\nConnectPort 443\n"
                + "Filter \"" + filter + "\"\nFilterType ere\nFilterDefaultDeny Yes\n");
        net.peer(net.server(), List.of("tinyproxy", "-d", "-c", conf.toString()), null, Duration.ofSeconds(5));
        awaitListening(List.of(PROXY_ADDRESS + ":" + port));
    }

    private void awaitListening(List<String> sockets) throws Exception {
        awaitListening(sockets, Duration.ofSeconds(15));
    }

    private void awaitListening(List<String> sockets, Duration within) throws Exception {
        Instant until = Instant.now().plus(within);
        for (String socket : sockets) {
            Duration left = Duration.between(Instant.now(), until);
            if (!net.server().listensWithin(socket, left.isNegative() ? Duration.ZERO : left)) {
                throw new IllegalStateException("nothing listens on " + socket + ": " + nginxErrors());
            }
        }
    }

    /**
     * The requests nginx has answered so far, one line each: server name, method, path, status, when the answer
     * was logged (seconds since the epoch, with milliseconds) and the connection's serial number.
     */
    public List<String> requests() throws IOException {
        Path log = work.resolve("nginx/access.log");
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    /** nginx's error log, for a failure's message. */
    public String nginxErrors() {
        try {
            return Files.readString(work.resolve("nginx/error.log"));
        } catch (IOException e) {
            return "(no nginx error log)";
        }
    }

    public NetworkLab net() {
        return net;
    }

    /** The lab CA's certificate (PEM). */
    public Path ca() {
        return caPem;
    }

    /** The CDN answers every blob with 403 and an S3 AccessDenied body while {@code on}. */
    public void cdnDenies(boolean on) throws IOException {
        if (on) {
            Files.writeString(cdnDeny, "deny\n");
        } else {
            Files.deleteIfExists(cdnDeny);
        }
    }

    /** The registry redirects blobs to a host whose name does not resolve while {@code on}. */
    public void redirectToUnresolvableHost(boolean on) throws IOException {
        if (on) {
            Files.writeString(redirectUnresolvable, "on\n");
        } else {
            Files.deleteIfExists(redirectUnresolvable);
        }
    }

    /** The router drops every packet from the client to the CDN's 443 (an allowlist without the layer host). */
    public void dropCdn() {
        net.rule("FORWARD", "-d", CDN_ADDRESS, "-p", "tcp", "--dport", "443", "-j", "DROP");
    }

    /** The router lets the client reach only the proxy: egress through it or nowhere. */
    public void proxyOnlyEgress() {
        net.rule("FORWARD", "-s", NetworkLab.CLIENT, "-d", PROXY_ADDRESS, "-j", "ACCEPT");
        net.rule("FORWARD", "-s", NetworkLab.CLIENT, "-j", "DROP");
    }

    /** The router drops the client's direct packets to {@code address} (only a proxy gets there). */
    public void dropDirect(String address) {
        net.rule("FORWARD", "-s", NetworkLab.CLIENT, "-d", address, "-j", "DROP");
    }

    /**
     * Debian's mitmproxy as a TLS-inspecting proxy on {@link #PROXY_ADDRESS}:8080, passing {@code passedThrough}
     * untouched (its {@code ignore_hosts}) and re-signing everything else with its own CA: inspection that reaches
     * the layer host only. Started once, on first use; stopped with the lab. Returns its URL.
     */
    public String interceptingProxy(String passedThrough) throws Exception {
        if (interceptor == null) {
            Netns.assumeTool("mitmdump");
            Path confdir = Files.createDirectories(work.resolve("mitm"));
            net.peer(net.server(), List.of("mitmdump", "--listen-host", PROXY_ADDRESS, "--listen-port", "8080",
                    "--set", "confdir=" + confdir, "--ssl-insecure", "--quiet", "--ignore-hosts",
                    "^" + passedThrough.replace(".", "\\.") + "(:443)?$"), null, Duration.ofSeconds(5));
            awaitListening(List.of(PROXY_ADDRESS + ":8080"), Duration.ofSeconds(30));
            interceptor = "http://" + PROXY_ADDRESS + ":8080";
        }
        return interceptor;
    }

    /** Removes every fault: router rules, the CDN's denial, the redirect to a name that does not resolve. */
    public void clearFaults() throws IOException {
        net.clearRules();
        cdnDenies(false);
        redirectToUnresolvableHost(false);
    }

    @Override
    public void close() {
        net.close();
        for (Path etc : netnsEtc) {
            try (var files = Files.walk(etc)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException ignored) {
                // an /etc/netns entry of a gone namespace is inert
            }
        }
    }

    /**
     * A one-layer image as an OCI layout: a real gzip'd tar (one file) that containerd can unpack, its config with
     * the tar's diff_id, and the manifest; the blobs are also copied into the CDN's directory, named by their hex
     * digest, as a CDN in front of the registry's storage would hold them.
     */
    static final class OciLayout {
        static Path write(Path dir, Path cdnBlobs) throws Exception {
            Path sha = Files.createDirectories(dir.resolve("blobs/sha256"));
            Path src = Files.createDirectories(dir.resolveSibling("layer-src"));
            Files.writeString(src.resolve("hello.txt"), "pulled through the lab\n");
            Path tar = dir.resolveSibling("layer.tar");
            run(List.of("tar", "--owner=0", "--group=0", "--mtime=2026-01-01", "-C", src.toString(), "-cf",
                    tar.toString(), "hello.txt"));
            run(List.of("gzip", "-n", "-k", "-f", tar.toString()));
            byte[] layer = Files.readAllBytes(Path.of(tar + ".gz"));
            String diffId = digest(Files.readAllBytes(tar));
            byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/hello.txt\"]},"
                    + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + diffId + "\"]}}")
                    .getBytes(StandardCharsets.UTF_8);
            byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + TinyImage.OCI_MANIFEST + "\",\"config\":{"
                    + "\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + digest(config)
                    + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":"
                    + "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" + digest(layer) + "\",\"size\":"
                    + layer.length + "}]}").getBytes(StandardCharsets.UTF_8);
            for (byte[] blob : List.of(layer, config, manifest)) {
                String hex = digest(blob).substring("sha256:".length());
                Files.write(sha.resolve(hex), blob);
                Files.write(cdnBlobs.resolve(hex), blob);
            }
            Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
            Files.writeString(dir.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\""
                    + TinyImage.OCI_MANIFEST + "\",\"digest\":\"" + digest(manifest) + "\",\"size\":" + manifest.length
                    + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"" + TAG + "\"}}]}");
            return dir;
        }

        private static void run(List<String> command) {
            Netns.Result r = Netns.runOnHost(Duration.ofSeconds(30), command);
            if (r.exitCode() != 0) {
                throw new IllegalStateException(command + " failed: " + r.err());
            }
        }

        private static String digest(byte[] bytes) {
            return TinyImage.digest(bytes);
        }
    }
}
