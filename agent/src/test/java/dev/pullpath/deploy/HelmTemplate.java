package dev.pullpath.deploy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.nio.file.Path;

/**
 * deploy/helm/pullpath rendered by Helm itself: helm-java embeds Helm's Go library (the same code as the helm CLI's
 * {@code lint} and {@code template}, values.schema.json checks included), so no helm binary is needed.
 */
final class HelmTemplate {
    static final Path CHART = Path.of("..", "deploy", "helm", "pullpath").toAbsolutePath().normalize();
    static final Path EXAMPLES = Path.of("..", "deploy", "helm", "examples").toAbsolutePath().normalize();
    static final String RELEASE = "pullpath";
    static final String NAMESPACE = "pullpath";
    /**
     * Chart.yaml asks for kubeVersion >=1.25; without a kube version Helm's library assumes v1.20 and refuses the
     * chart, so every render names one, as {@code helm template --kube-version} must (deploy/README.md).
     */
    static final String KUBE_VERSION = "1.29.0";

    private HelmTemplate() {
    }

    static LintResult lintStrict() {
        return new Helm(CHART).lint().strict().call();
    }

    /** {@code helm template pullpath deploy/helm/pullpath -n pullpath --kube-version V -f FILE...}. */
    static String render(String kubeVersion, Path... valuesFiles) {
        TemplateCommand template = new Helm(CHART).template().withName(RELEASE).withNamespace(NAMESPACE)
                .withKubeVersion(kubeVersion);
        for (Path f : valuesFiles) {
            template.withValuesFile(f);
        }
        return template.call();
    }

    static String render(Path... valuesFiles) {
        return render(KUBE_VERSION, valuesFiles);
    }

    /** {@code helm template} without {@code --kube-version}: Helm's library then assumes its own default. */
    static String renderWithoutKubeVersion() {
        return new Helm(CHART).template().withName(RELEASE).withNamespace(NAMESPACE).call();
    }

    static Path example(String name) {
        return EXAMPLES.resolve(name + ".yaml");
    }
}
