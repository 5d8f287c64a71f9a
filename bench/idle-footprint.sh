#!/usr/bin/env bash
# Idle footprint of `pullpath run`: RSS and CPU of the agent probing N loopback registries at an interval,
# sampled from /proc every 10 s. Usage: bash bench/idle-footprint.sh [targets=4] [interval=15s] [seconds=300] [JVM flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
targets=${1:-4}; interval=${2:-15s}; seconds=${3:-300}; shift $(( $# < 3 ? $# : 3 ))
jvm_flags=("$@")
mvn -q -DskipTests package test-compile
cp_file=$(mktemp); work=$(mktemp -d)
mvn -q -pl agent dependency:build-classpath -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
java -Xmx128m -cp "agent/target/test-classes:agent/target/classes:$(cat "$cp_file")" \
  dev.pullpath.bench.LoopbackRegistries "$work" "$targets" "$interval" "$port" > "$work/peers.log" 2>&1 &
peers=$!
agent=""
cleanup() { [ -n "$agent" ] && kill "$agent" 2>/dev/null; kill "$peers" 2>/dev/null; wait 2>/dev/null; rm -rf "$work" "$cp_file"; }
trap cleanup EXIT
for _ in $(seq 100); do grep -q '^ready' "$work/peers.log" 2>/dev/null && break; sleep 0.2; done
START_NS=$(date +%s%N)
java "${jvm_flags[@]}" -jar agent/target/pullpath-agent.jar run --config "$work/config.yaml" > "$work/agent.log" 2>&1 &
agent=$!
ready_ms=$(await_ready "$port" "$agent" "$work/agent.log")
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$agent/stat"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$agent/status"; }
sleep 20  # past start-up and the first round
c0=$(cpu); t0=$(date +%s%N); r_first=$(rss); r_max=$r_first; r_sum=0; n=0
end=$(( $(date +%s) + seconds ))
while [ "$(date +%s)" -lt "$end" ]; do
  sleep 10; r=$(rss); r_sum=$(( r_sum + r )); n=$(( n + 1 )); [ "$r" -gt "$r_max" ] && r_max=$r
done
c1=$(cpu); t1=$(date +%s%N)
probes=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^pullpath_probe_duration_seconds_count\{.*phase="dns"/ {s += $2} END {print s}')
elapsed_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print (b - a) / 1e9}')
cpu_s=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN {print (b - a) / hz}')
echo "pullpath run, ${targets} loopback registry targets every ${interval}, ${seconds}s measured, JVM flags: ${jvm_flags[*]:-(none)}"
echo "  start to /readyz:          ${ready_ms} ms"
echo "  RSS first/avg/max:         $((r_first / 1024)) / $((r_sum / n / 1024)) / $((r_max / 1024)) MiB"
echo "  CPU over the window:       ${cpu_s} s in ${elapsed_s} s = $(awk -v c="$cpu_s" -v e="$elapsed_s" 'BEGIN {printf "%.3f", 100 * c / e}') % of one core"
echo "  probes recorded (total):   ${probes}"
