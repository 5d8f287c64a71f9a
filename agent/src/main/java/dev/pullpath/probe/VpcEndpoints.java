package dev.pullpath.probe;

import dev.pullpath.config.IpLiterals;
import dev.pullpath.diagnosis.AddressScope;
import dev.pullpath.diagnosis.Evidence;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What DNS answers say about VPC endpoints. An interface endpoint shows as a CNAME into
 * {@code *.vpce.amazonaws.com}, or, with private DNS, as an AWS service name answering private addresses directly.
 * A registry that has no VPC endpoint at all (public.ecr.aws, Docker Hub, quay.io...) answering private addresses
 * is an override: a private hosted zone, split-horizon DNS or a hosts-file entry.
 */
final class VpcEndpoints {
    /** Registries with no VPC endpoint: a private answer for them is always someone's override. */
    private static final Set<String> NO_PRIVATE_ENDPOINT = Set.of("public.ecr.aws", "registry-1.docker.io",
            "docker.io", "index.docker.io", "quay.io", "ghcr.io", "registry.k8s.io", "gcr.io", "mcr.microsoft.com");

    private VpcEndpoints() {
    }

    static boolean isInterfaceEndpoint(String host, Evidence.Dns dns) {
        if (dns == null) {
            return false;
        }
        if (dns.cnameChain().stream().anyMatch(c -> c.toLowerCase(Locale.ROOT).endsWith(".vpce.amazonaws.com"))) {
            return true;
        }
        String h = host.toLowerCase(Locale.ROOT);
        return (h.endsWith(".amazonaws.com") || h.endsWith(".amazonaws.com.cn")) && !dns.answers().isEmpty()
                && privateAnswers(dns).size() == dns.answers().size();
    }

    static boolean hasNoPrivateEndpoint(String host) {
        return NO_PRIVATE_ENDPOINT.contains(host.toLowerCase(Locale.ROOT));
    }

    static List<String> privateAnswers(Evidence.Dns dns) {
        return dns.answers().stream().filter(a -> IpLiterals.isLiteral(a)
                && AddressScope.of(IpLiterals.parse(a)) == AddressScope.PRIVATE).toList();
    }

    /** Where the answer came from, for the summary: the hosts-file line or the nameserver's answer. */
    static String source(Evidence.Dns dns) {
        if ("hosts-file".equals(dns.source()) && dns.hostsFileLine() != null) {
            return "a hosts-file entry (" + dns.hostsFileLine() + ")";
        }
        String chain = dns.cnameChain().isEmpty() ? "" : " via CNAME " + String.join(" -> ", dns.cnameChain());
        return "DNS" + chain;
    }
}
