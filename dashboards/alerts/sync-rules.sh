#!/usr/bin/env bash
# Writes every copy of pullpath-rules.yaml that other tools load: the Prometheus Operator's PrometheusRule, the
# Helm chart's file and Grafana's alerting provisioning. RulesSyncTest fails while a copy differs from what this
# script writes, so run it after each edit of pullpath-rules.yaml and commit the results.
#
# The two Prometheus copies are text (comments survive, no YAML tool needed); Grafana's format differs in
# structure, so a small Java class of the test sources converts it (needs Maven, which the build needs anyway).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
src="$here/pullpath-rules.yaml"
header="# Generated from dashboards/alerts/pullpath-rules.yaml by dashboards/alerts/sync-rules.sh; edit that file."

# Everything from "groups:" on; the source's header comment describes the source, not the copies.
groups_only() {
  sed -n '/^groups:/,$p' "$src"
}

mkdir -p "$root/deploy/kustomize/base" "$root/deploy/helm/pullpath/files" "$root/dashboards/grafana/alerting"

{
  echo "$header"
  groups_only
} > "$root/deploy/helm/pullpath/files/pullpath-rules.yaml"

{
  echo "$header"
  cat <<'YAML'
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: pullpath
  namespace: pullpath
  labels:
    app.kubernetes.io/name: pullpath
    app.kubernetes.io/component: agent
spec:
YAML
  # Uniform indentation keeps block scalars intact; blank lines stay blank rather than carrying spaces.
  groups_only | sed -e 's/^/  /' -e 's/^ *$//'
} > "$root/deploy/kustomize/base/prometheusrule.yaml"

mvn -B -q -Dstyle.color=never -f "$root/pom.xml" -pl agent test-compile \
  org.codehaus.mojo:exec-maven-plugin:3.5.0:java \
  -Dexec.classpathScope=test \
  -Dexec.mainClass=dev.pullpath.dashboards.GrafanaAlerting \
  -Dexec.args="$src $root/dashboards/grafana/alerting/pullpath-alerts.yaml"

echo "wrote deploy/kustomize/base/prometheusrule.yaml, deploy/helm/pullpath/files/pullpath-rules.yaml," \
  "dashboards/grafana/alerting/pullpath-alerts.yaml"
