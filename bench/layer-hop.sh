#!/usr/bin/env bash
# What the layer hop costs: requests to the registry and the layer host per probe, and the time it adds (loopback).
# Usage: bash bench/layer-hop.sh [iterations]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -DskipTests test-compile
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
mvn -q -pl agent dependency:build-classpath -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test >/dev/null
exec java -Xmx256m -cp "agent/target/test-classes:agent/target/classes:$(cat "$cp_file")" \
  dev.pullpath.bench.LayerHopBench "${1:-20}"
