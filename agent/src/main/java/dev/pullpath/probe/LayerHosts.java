package dev.pullpath.probe;

import dev.pullpath.diagnosis.Redaction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What pullpath knows about the hosts registries hand blob downloads to: which kind of host it is (private ECR's S3
 * layer bucket, a CloudFront distribution, another CDN), what to allow for it, and what its 403 said.
 */
final class LayerHosts {
    private static final Pattern S3_CODE = Pattern.compile("<Code>([A-Za-z0-9.]{1,64})</Code>");
    private static final Pattern S3_MESSAGE = Pattern.compile("<Message>([^<]{1,200})</Message>");

    private static final Pattern S3_HOST = Pattern.compile("(?:^|\\.)s3[.-](?:dualstack\\.)?([a-z]{2}(?:-gov)?-[a-z]+-\\d)"
            + "\\.amazonaws\\.com$");

    private LayerHosts() {
    }

    /**
     * What to allow for a layer host, appended to the hint of a failure there: the S3 bucket private ECR serves
     * layers from and its gateway endpoint's policy, a CloudFront distribution, or the host as it is.
     */
    static String advice(String layerHost, String registryHost) {
        Matcher s3 = S3_HOST.matcher(layerHost);
        if (s3.find() || layerHost.endsWith(".s3.amazonaws.com")) {
            String region = s3.find(0) ? s3.group(1) : "REGION";
            return " " + layerHost + " is the S3 bucket " + registryHost + " serves layers from: allow *.s3." + region
                    + ".amazonaws.com wherever " + registryHost + " is allowed (proxy allow list, firewall domain "
                    + "list); from a private subnet, the S3 gateway endpoint (com.amazonaws." + region + ".s3) must be "
                    + "in the nodes' route tables and its policy must allow s3:GetObject on arn:aws:s3:::prod-"
                    + region + "-starport-layer-bucket/*.";
        }
        if (layerHost.endsWith(".cloudfront.net")) {
            return " " + layerHost + " is the CloudFront distribution " + registryHost + " serves layers from: "
                    + "allow *.cloudfront.net (or this host) wherever " + registryHost + " is allowed (proxy allow "
                    + "list, firewall domain list, NO_PROXY).";
        }
        return " " + layerHost + " is the host " + registryHost + " redirects layer downloads to: allow it wherever "
                + registryHost + " is allowed (proxy allow list, firewall domain list, NO_PROXY).";
    }

    /** A 403's S3 error code and message, from a bounded body ({@code <Code>AccessDenied</Code>}). */
    static String denial(BoundedResponse answer) {
        String body = answer.bodyText();
        Matcher code = S3_CODE.matcher(body);
        if (code.find()) {
            Matcher message = S3_MESSAGE.matcher(body);
            return ": S3 " + code.group(1) + (message.find() ? " (" + Redaction.snippet(message.group(1), 120)
                    + ")" : "");
        }
        String server = answer.header("server");
        return (server == null ? "" : ", server " + Redaction.snippet(server, 40)) + RegistryProbe.bodyNote(answer);
    }
}
