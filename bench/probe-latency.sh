#!/usr/bin/env bash
# Probe latency and prober CPU per probe, healthy path and each failure class, against loopback peers.
# Usage: bash bench/probe-latency.sh [iterations]   (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -DskipTests test-compile
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
mvn -q -pl agent dependency:build-classpath -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test >/dev/null
exec java -Xmx256m -cp "agent/target/test-classes:agent/target/classes:$(cat "$cp_file")" \
  dev.pullpath.bench.ProbeLatencyBench "${1:-200}"
