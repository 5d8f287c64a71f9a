package dev.pullpath.config;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The endpoints a pull from private ECR touches: the registry ({@code ACCOUNT.dkr.ecr.REGION.amazonaws.com}),
 * the API ({@code api.ecr.REGION.amazonaws.com}, for the kubelet credential provider's GetAuthorizationToken), and
 * the S3 bucket the layers come from ({@code prod-REGION-starport-layer-bucket.s3.REGION.amazonaws.com}, through
 * the S3 gateway endpoint in a private subnet). Each needs its own VPC endpoint, route or rule.
 */
public final class PrivateEcr {
    private static final Pattern REGION = Pattern.compile("[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\\d");
    private static final Pattern ACCOUNT = Pattern.compile("\\d{12}");

    private PrivateEcr() {
    }

    public static List<Target> endpoints(String region, String account) {
        if (region == null || account == null) {
            throw new ConfigException("--ecr-region and --ecr-account go together");
        }
        if (!REGION.matcher(region).matches()) {
            throw new ConfigException("--ecr-region '" + region + "' is not an AWS region (e.g. us-east-1)");
        }
        if (!ACCOUNT.matcher(account).matches()) {
            throw new ConfigException("--ecr-account must be the 12-digit account id");
        }
        String domain = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
        return List.of(
                Target.parse(account + ".dkr.ecr." + region + "." + domain),
                Target.parse("api.ecr." + region + "." + domain),
                Target.parse("prod-" + region + "-starport-layer-bucket.s3." + region + "." + domain));
    }

    /**
     * The API and the layer bucket are not registries: {@code GET /v2/} means nothing to them (S3 answers 403), so
     * they are walked to TLS only; the registry endpoint gets the whole path.
     */
    public static boolean registryApi(String host) {
        return !(host.startsWith("api.ecr.") || host.contains("-starport-layer-bucket.s3."));
    }

    /** A hint addition for the endpoint kind {@code host} is, or empty. */
    public static String endpointAdvice(String host) {
        if (host.contains(".s3.") && host.contains("starport-layer-bucket")) {
            return " For ECR layers from a private subnet: an S3 gateway endpoint in the route tables of the "
                    + "nodes' subnets, and a policy allowing arn:aws:s3:::prod-REGION-starport-layer-bucket/*.";
        }
        if (host.startsWith("api.ecr.")) {
            return " The API endpoint (com.amazonaws.REGION.ecr.api) serves the kubelet credential provider's "
                    + "GetAuthorizationToken: its interface endpoint's security group must allow 443 from the nodes.";
        }
        if (host.contains(".dkr.ecr.")) {
            return " The registry endpoint (com.amazonaws.REGION.ecr.dkr): its interface endpoint's security group "
                    + "must allow 443 from the nodes, with private DNS enabled.";
        }
        return "";
    }
}
