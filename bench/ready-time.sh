#!/usr/bin/env bash
# Start-up to /readyz for several JVM configurations, one JVM at a time, alternating, ROUNDS each: pullpath `run`
# with 4 targets refusing on loopback (no registry needed). Each configuration is one word-split string: the java
# binary, then its flags. Prints the milliseconds of each round per configuration.
# Usage: bash bench/ready-time.sh ROUNDS "java @deploy/image/jvm.options" "java @deploy/image/jvm.options -XX:..." ...
# Env: READY_JAR (default agent/target/pullpath-agent.jar, as built: this script does not build).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
rounds=$1; shift
jar=${READY_JAR:-agent/target/pullpath-agent.jar}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
printf '127.0.0.1 registry.test\n' > "$work/hosts"; printf 'options ndots:1\n' > "$work/resolv.conf"
{
  printf 'listen: 127.0.0.1:%s\ninterval: 15s\ntimeout: 1s\nhostsFile: %s\nresolvConf: %s\nresolvers: ["127.0.0.1:9"]\ntargets:\n' \
    "$port" "$work/hosts" "$work/resolv.conf"
  for i in 1 2 3 4; do printf '  - name: t%d\n    url: https://registry.test:%d\n' "$i" "$i"; done
} > "$work/config.yaml"
declare -a res
for _ in $(seq "$rounds"); do
  for k in $(seq 0 $(( $# - 1 ))); do
    conf=("$@"); read -r -a cmd <<< "${conf[k]}"
    START_NS=$(date +%s%N)
    "${cmd[@]}" -jar "$jar" run --config "$work/config.yaml" > "$work/log" 2>&1 & p=$!
    ms=$(await_ready "$port" "$p" "$work/log"); kill "$p"; wait "$p" 2>/dev/null || true
    res[k]="${res[k]:-} $ms"; sleep 1
  done
done
k=0; for c in "$@"; do echo "$c:${res[k]} ms"; k=$(( k + 1 )); done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
