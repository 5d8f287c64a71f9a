#!/usr/bin/env bash
# What a fleet sends to the registry, on the agent's own scheduler (ProbeScheduler, RegistryCadence, FleetCadence)
# driven by a virtual clock: 5,000 agents behind 3 NAT addresses, each with the chart's defaults (public.ecr.aws and
# its default image, the default budget of 0.1 requests/s for the fleet), a stub prober recording every registry
# request at its NAT address (no network). Prints, per NAT address and fleet-wide, the mean requests/s and the worst
# 1 s, 10 s, 60 s, 10 min and 1 h windows for: steady state; all agents starting within 60 s; a config reload
# reaching all at once; a 429 storm of 10 minutes, then recovery.
#
# Usage: bash bench/fleet-sim.sh [--nodes 5000] [--nats 3] [--budget 0.1] [--interval 30s] [--registry-interval 5m]
#        [--seed 1] [--ranked true] [--churn 0.03] [--scenarios steady,start,reload,storm]
# Env: FLEET_SIM_NO_BUILD=1 (use the classes as built), PULLPATH_JAVA (java binary, default `java`).
# The simulator is test code (agent/src/test/java/dev/pullpath/fleetsim): it is not in the agent's jar.
# Takes about 25 minutes of a shared core at 5,000 nodes, the steady state most of it (206 million scheduler tasks: the
# cheap hops of 5,000 nodes every 30 s for 13 virtual days), then about 95 s for each other scenario (a day each);
# --scenarios start,reload,storm skips the steady state; --nodes 500 takes about 15 s.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${FLEET_SIM_NO_BUILD:-}" = 1 ] || mvn -q -DskipTests test-compile
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
mvn -q -pl agent dependency:build-classpath -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=runtime >/dev/null
"${PULLPATH_JAVA:-java}" -XX:+UseSerialGC -Xmx1g -Dlogback.configurationFile=bench/fleet-sim-logback.xml \
  -cp "agent/target/test-classes:agent/target/classes:$(cat "$cp_file")" dev.pullpath.fleetsim.FleetSimulation "$@"
