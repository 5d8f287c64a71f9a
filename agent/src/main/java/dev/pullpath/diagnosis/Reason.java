package dev.pullpath.diagnosis;

/**
 * The failure taxonomy: every outcome a probe can reach, with its category, its stable reason string and
 * the hint a node operator acts on. Adding a reason is a constant here plus a line in docs/taxonomy.md.
 *
 * <p>Each reason carries its {@link #rank() rank} (severity across the addresses of one target) and its
 * {@link #verdict() verdict}; declaration order is for reading only.
 */
public enum Reason {
    DNS_NO_RESOLVER(Category.DNS, "no_resolver", 10,
            "No usable nameserver: check /etc/resolv.conf on the node (the file the kubelet and containerd read) "
                    + "and that the VPC resolver (the .2 address of the VPC CIDR, or 169.254.169.253) is reachable."),
    DNS_TIMEOUT(Category.DNS, "timeout", 20,
            "The resolver did not answer in time: check that UDP and TCP port 53 to the nameserver are allowed by "
                    + "the security group and NACL, and that the resolver (CoreDNS, node-local-dns, VPC resolver) is up."),
    DNS_SERVFAIL(Category.DNS, "servfail", 30,
            "The resolver failed to resolve {host}: check its upstream forwarding (Route 53 Resolver rules, "
                    + "conditional forwarders) and DNSSEC; retry with --resolver to compare another resolver."),
    DNS_REFUSED(Category.DNS, "refused", 40,
            "The nameserver refused the query: it does not serve recursion to this node. Point /etc/resolv.conf "
                    + "at a resolver that allows this subnet."),
    DNS_NXDOMAIN(Category.DNS, "nxdomain", 50,
            "{host} does not exist according to the resolver: check the spelling, and any private hosted zone or "
                    + "forwarding rule that shadows the parent domain."),
    DNS_NO_DATA(Category.DNS, "no_data", 60,
            "{host} exists but has no A or AAAA record: a private hosted zone or split-horizon view probably "
                    + "shadows it without the record; check the zones associated with this VPC."),

    PROXY_UNREACHABLE(Category.PROXY, "proxy_unreachable", 70,
            "The HTTPS proxy cannot be reached: check HTTPS_PROXY as containerd and the kubelet see it "
                    + "(systemd drop-ins), and the route and firewall from the node to the proxy."),
    PROXY_TIMEOUT(Category.PROXY, "proxy_timeout", 80,
            "The proxy accepted the connection but did not answer CONNECT in time: check the proxy's health and its "
                    + "own path to {host}."),
    PROXY_AUTH_REQUIRED(Category.PROXY, "proxy_auth_required", 90,
            "The proxy wants authentication (407): put credentials in HTTPS_PROXY for containerd "
                    + "(http://user:password@proxy:port), or have the proxy allow the nodes' addresses."),
    PROXY_DENIED(Category.PROXY, "proxy_denied", 100,
            "The proxy refused CONNECT to {host}:{port}: add {host} to the proxy's allow list, or to NO_PROXY for "
                    + "containerd and the kubelet if the node has a direct path."),
    PROXY_UPSTREAM_FAILED(Category.PROXY, "proxy_upstream_failed", 110,
            "The proxy could not reach {host}: check the proxy's own DNS and egress to {host}:{port}."),
    FIREWALL_NO_EGRESS_ROUTE(Category.FIREWALL, "no_egress_route", 120,
            "The node has no route for this address family to a public address: a private subnet without a NAT "
                    + "gateway (public.ecr.aws has no VPC endpoint for pulls). Add a NAT gateway route, or pull "
                    + "through a registry reachable by a VPC endpoint (private ECR, a pull-through cache)."),
    FIREWALL_ADMIN_PROHIBITED(Category.FIREWALL, "admin_prohibited", 130,
            "A firewall rejected the connection with ICMP administratively prohibited: find the rule on the "
                    + "rejecting hop named in the evidence and allow TCP {port} to {host}."),
    FIREWALL_NETWORK_UNREACHABLE(Category.FIREWALL, "network_unreachable", 140,
            "The kernel or a router has no route to the address: check the node's route table and the subnet's "
                    + "route table (0.0.0.0/0 to a NAT or internet gateway)."),
    FIREWALL_HOST_UNREACHABLE(Category.FIREWALL, "host_unreachable", 150,
            "The node or a router on the way reports {host} unreachable (EHOSTUNREACH: an unreachable route, no "
                    + "ARP/ND answer, or an ICMP host-unreachable): check the route tables and any firewall that "
                    + "answers with ICMP."),
    FIREWALL_CONNECT_REFUSED(Category.FIREWALL, "connect_refused", 160,
            "The connection was refused (TCP reset): nothing listens on that port, or a firewall rejects with a "
                    + "reset. Check egress rules for TCP {port} and that {host} is the right endpoint."),
    FIREWALL_CONNECT_TIMEOUT(Category.FIREWALL, "connect_timeout", 170,
            "SYN unanswered: a security group, NACL or firewall drops TCP {port} to {host}. Allow egress to TCP "
                    + "{port} (and the return traffic on the NACL's ephemeral ports)."),
    VPC_ENDPOINT_UNREACHABLE(Category.VPC_ENDPOINT, "endpoint_unreachable", 180,
            "{host} resolves to a VPC interface endpoint that does not accept TCP {port}: allow inbound {port} from the "
                    + "nodes' subnets in the endpoint's security group, and check the subnets' NACLs."),
    FIREWALL_SNI_RESET(Category.FIREWALL, "sni_reset", 190,
            "TCP connects but the connection is torn down right after the TLS ClientHello: a firewall filters by "
                    + "SNI/domain (e.g. AWS Network Firewall, a proxy appliance). Allow {host} in its domain list."),
    FIREWALL_TLS_STALLED(Category.FIREWALL, "tls_stalled", 200,
            "TCP connects but no TLS ServerHello arrives: a middlebox swallows the handshake (SNI filtering that "
                    + "drops instead of resetting, or an MTU black hole). Check the firewall's domain rules and path MTU."),
    FIREWALL_PMTU_BLACK_HOLE(Category.FIREWALL, "pmtu_black_hole", 210,
            "The TLS handshake with {host} completes with a small MSS and stalls at the path's default: a router "
                    + "drops packets larger than the path MTU and its ICMP fragmentation-needed is filtered. Find the "
                    + "low-MTU hop (VPN, transit gateway, GRE/IPsec tunnel) and allow ICMP type 3 code 4 / ICMPv6 "
                    + "packet-too-big through, or clamp the MSS on it."),


    PROXY_TLS_INTERCEPTED(Category.PROXY, "tls_intercepted", 220,
            "TLS to {host} is intercepted: the chain ends at a CA {host} does not use. Trust that CA for this "
                    + "registry (containerd hosts.toml 'ca' under /etc/containerd/certs.d/{host}/, or the node's trust "
                    + "store), or exempt {host} from inspection on the proxy or firewall."),
    TLS_HANDSHAKE_FAILED(Category.TLS, "handshake_failed", 230,
            "The TLS handshake failed (alert, protocol or cipher mismatch): compare the server's TLS versions and "
                    + "ciphers with the client's (TLS 1.2+), or look for a middlebox rewriting the handshake."),
    TLS_UNTRUSTED_CERTIFICATE(Category.TLS, "untrusted_certificate", 240,
            "The certificate chain does not lead to a trusted root: add the issuing CA to the node's trust store "
                    + "or the registry's containerd hosts.toml 'ca' (pullpath: --ca-file)."),
    TLS_HOSTNAME_MISMATCH(Category.TLS, "hostname_mismatch", 250,
            "The certificate does not name {host}: the name points at the wrong endpoint (check DNS and hosts-file "
                    + "overrides) or the server presents the wrong certificate."),
    TLS_CERTIFICATE_EXPIRED(Category.TLS, "certificate_expired", 260,
            "A certificate in the chain has expired: renew it on the server, or check that the node's clock is "
                    + "right (chronyd)."),
    TLS_CERTIFICATE_NOT_YET_VALID(Category.TLS, "certificate_not_yet_valid", 270,
            "A certificate in the chain is not yet valid: the node's clock is probably behind; check chronyd/NTP."),

    AUTH_CREDENTIALS_EXPIRED(Category.AUTH, "credentials_expired", 280,
            "A stored login for {host} has expired and is still sent instead of anonymous access: remove it "
                    + "(`helm registry logout {host}` for Helm's store, `docker logout {host}` for Docker's, or delete "
                    + "it from the credential helper's keychain), or log in again "
                    + "(`aws ecr-public get-login-password | helm registry login --username AWS --password-stdin {host}`)."),
    AUTH_CREDENTIALS_REJECTED(Category.AUTH, "credentials_rejected", 290,
            "The registry refuses the stored login for {host} while anonymous access works: remove or renew it "
                    + "(`helm registry logout {host}`, `docker logout {host}`, or the credential helper's keychain)."),
    AUTH_PROVIDER_FAILED(Category.AUTH, "provider_failed", 300,
            "The kubelet's image credential provider failed, so the kubelet pulls {host} without credentials: check "
                    + "the node role's permissions (ecr:GetAuthorizationToken, or ecr-public:GetAuthorizationToken and "
                    + "sts:GetServiceBearerToken for public.ecr.aws), the provider binary and its config."),
    AUTH_TOKEN_FAILED(Category.AUTH, "token_failed", 310,
            "The registry's token realm could not issue an anonymous token: check that the realm host in the "
                    + "Www-Authenticate challenge is reachable from the node."),
    AUTH_ANONYMOUS_DENIED(Category.AUTH, "anonymous_denied", 320,
            "The registry refused anonymous access: this repository needs credentials; configure them for "
                    + "containerd (kubelet credential provider or imagePullSecrets)."),

    VPC_ENDPOINT_POLICY_DENIED(Category.VPC_ENDPOINT, "endpoint_policy_denied", 330,
            "The VPC endpoint for {host} answered AccessDenied: its endpoint policy does not allow this principal or "
                    + "repository. Review the endpoint policy (and, for ECR layers, the S3 gateway endpoint's policy)."),
    REGISTRY_HOSTS_CONFIG_INVALID(Category.REGISTRY, "hosts_config_invalid", 340,
            "containerd cannot use its registry host configuration for {host}, so every pull of it fails before any "
                    + "connection: fix the hosts.toml named in the summary (config_path, usually "
                    + "/etc/containerd/certs.d/{host}/hosts.toml); containerd rereads it on the next pull."),
    REGISTRY_RATE_LIMITED(Category.REGISTRY, "rate_limited", 350,
            "The registry rate-limits this address (429): every node behind the same NAT shares the quota. "
                    + "Authenticate pulls, use a pull-through cache, or spread pulls out."),
    REGISTRY_SERVER_ERROR(Category.REGISTRY, "server_error", 360,
            "The registry answered a 5xx: check the provider's status page and retry; nothing on the node is at "
                    + "fault if other hops pass."),
    REGISTRY_NOT_FOUND(Category.REGISTRY, "not_found", 370,
            "The endpoint answers 404 for the registry API: {host} is not a registry, or the path is wrong."),
    REGISTRY_UNEXPECTED_RESPONSE(Category.REGISTRY, "unexpected_response", 380,
            "Something other than a registry answered (captive portal, load balancer, web filter): check what "
                    + "{host} resolves to and any transparent proxy on the path."),

    /** A warning: the path works, but not the way it should. */
    VPC_ENDPOINT_PRIVATE_DNS_OVERRIDE(Category.VPC_ENDPOINT, "private_dns_override", 390,
            "{host} resolves to private addresses although it has no VPC endpoint: a private hosted zone, "
                    + "split-horizon DNS or a hosts-file entry overrides it. Remove the override, or make sure it "
                    + "points at a path that will keep working (a pull-through cache, a proxy).", true),

    /** A warning: the path works, but not the way it should. */
    REGISTRY_MIRROR_UNAVAILABLE(Category.REGISTRY, "mirror_unavailable", 400,
            "A mirror configured for {host} in containerd's hosts.toml fails, so every pull waits for it and falls "
                    + "back to the next host (the summary names it): fix the mirror or remove it from "
                    + "/etc/containerd/certs.d/{host}/hosts.toml. Pulls bypass the cache meanwhile, and may be rate "
                    + "limited upstream.", true),

    /** A warning: containerd's decoder rejects the registry's hosts.toml and pulls from the default host. */
    REGISTRY_HOSTS_CONFIG_IGNORED(Category.REGISTRY, "hosts_config_ignored", 405,
            "containerd cannot decode the hosts.toml for {host} (the summary says why) and ignores it: pulls go to "
                    + "the registry itself with only the directory's *.crt files, without the file's mirrors, ca, "
                    + "skip_verify or headers. Fix the file (containerd rereads it on the next pull); before 1.7.32 "
                    + "it needs at least one [host.\"URL\"] table, even for the server alone.", true),

    OK(Category.NONE, "ok", 1000, "");

    private final Category category;
    private final String code;
    private final int rank;
    private final String hintTemplate;
    private final boolean warning;

    Reason(Category category, String code, int rank, String hintTemplate) {
        this(category, code, rank, hintTemplate, false);
    }

    Reason(Category category, String code, int rank, String hintTemplate, boolean warning) {
        this.category = category;
        this.code = code;
        this.rank = rank;
        this.hintTemplate = hintTemplate;
        this.warning = warning;
    }

    /** True for a warning: {@link #ok()} holds (pulls get through), yet the diagnosis names a problem. */
    public boolean warning() {
        return warning;
    }

    public Category category() {
        return category;
    }

    /** The stable reason string, unique within its category. */
    public String code() {
        return code;
    }

    /** Pulls get through: {@link #OK}, or a warning. */
    public boolean ok() {
        return this == OK || warning;
    }

    /** The hint with the target's host and port filled in. */
    public String hint(String host, int port) {
        return hintTemplate.replace("{host}", host).replace("{port}", Integer.toString(port));
    }

    /** OK, WARN or FAIL: what a pull on this node would meet. */
    public Verdict verdict() {
        return this == OK ? Verdict.OK : warning ? Verdict.WARN : Verdict.FAIL;
    }

    /**
     * The severity across the addresses of one target, lower is worse: a hop that fails earlier on the path hides
     * everything after it, so it ranks worse; every failure ranks before every warning, and {@link #OK} last.
     */
    public int rank() {
        return rank;
    }

    /** True when this outcome hides {@code other}: its rank is worse. */
    public boolean worseThan(Reason other) {
        return rank < other.rank;
    }

    /** The reason named {@code category/code}, for tests, docs and config. */
    public static Reason of(String category, String code) {
        for (Reason r : values()) {
            if (r.category.label().equals(category) && r.code.equals(code)) {
                return r;
            }
        }
        throw new IllegalArgumentException("no reason " + category + "/" + code);
    }

    @Override
    public String toString() {
        return category.label() + "/" + code;
    }
}
