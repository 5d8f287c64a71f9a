#!/usr/bin/env bash
# What a node pays at production cadence: pullpath `run` and Prometheus blackbox_exporter probing the same N loopback
# registries every T seconds, in the same minutes. Each registry is an nginx server (Debian nginx, TLS 1.3, ECDSA
# P-256 under a private CA) whose /v2/ answers 401 with a Bearer challenge, whose token realm answers a token, and
# whose /v2/ answers 200 to a request that carries it: pullpath's probe does DNS (hosts file), TCP, TLS, GET /v2/,
# the token and /v2/ again; blackbox's `http` module does TCP, TLS and GET /v2/ expecting the 401. A shell loop asks
# blackbox's /probe for each target once every T, spread evenly over the interval (as Prometheus spreads its scrapes).
# After a warm-up, each process's utime+stime over the window (from /proc/PID/stat) gives CPU ms per probe and % of
# one core; RSS is sampled every 5 s (average and max). curl's own CPU is not counted: it is neither system's.
#
# Usage: bash bench/cadence.sh [targets=4] [interval-seconds=15] [window-seconds=300] [pullpath JVM flags...]
# Env: CADENCE_WARMUP (seconds, default 2 intervals), PULLPATH_JAVA (java binary, default `java`),
# CADENCE_NO_BUILD=1 (use the jar as built), CADENCE_JAR (pullpath's jar, default the built one: a copy lets the
# tree be rebuilt while a run goes on), CADENCE_JFR=FILE (record JFR on pullpath over the window),
# CADENCE_JFR_SETTINGS (a .jfc, default profile), CADENCE_NMT=FILE (pullpath's NMT summary at the end; add -XX:NativeMemoryTracking=summary to the flags).
# Alternatives beside it in the same minutes: CADENCE_ALT_FLAGS / _JAR / _JAVA, and CADENCE_ALT2_* .. CADENCE_ALT6_*
# (each a further pullpath on the same registries). At the end, each pullpath's memory is split from
# /proc/PID/status and smaps_rollup (anonymous: what only this process holds; file: mapped from disk, page cache,
# reclaimable) with its metaspace and loaded classes from its own /metrics.
# Needs: nginx, prometheus-blackbox-exporter, openssl, curl, python3 (Debian: nginx-light prometheus-blackbox-exporter).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
n=${1:-4}; interval=${2:-15}; window=${3:-300}; shift $(( $# < 3 ? $# : 3 ))
jvm_flags=("$@")
[ ${#jvm_flags[@]} -eq 0 ] && jvm_flags=("@deploy/image/jvm.options")
java_bin=${PULLPATH_JAVA:-java}
warmup=${CADENCE_WARMUP:-$(( 2 * interval ))}
for tool in nginx prometheus-blackbox-exporter openssl curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install nginx-light prometheus-blackbox-exporter)" >&2; exit 2; }
done
[ "${CADENCE_NO_BUILD:-}" = 1 ] || mvn -q -DskipTests package
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_ports() { python3 -c "
import socket
ss=[socket.socket() for _ in range($1)]
for s in ss: s.bind(('127.0.0.1',0))
print(' '.join(str(s.getsockname()[1]) for s in ss))"; }
read -r -a ports <<< "$(free_ports $(( n + 8 )))"
bport=${ports[n]}; pport=${ports[n+1]}

# --- the registries: one nginx (one worker), N TLS 1.3 servers, each a registry with a token realm
bench_pki "$work"
{
  nginx_http_head "$work"
  for i in $(seq 0 $(( n - 1 ))); do
    cat <<EOF
  server {
    listen 127.0.0.1:${ports[i]} ssl http2;
    ssl_certificate $work/leaf.pem;
    ssl_certificate_key $work/leaf.key;
    ssl_protocols TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
    default_type application/json;
    location = /v2/ {
      add_header Docker-Distribution-API-Version registry/2.0 always;
      if (\$http_authorization = "Bearer bench-token") { return 200 '{}'; }
      add_header Www-Authenticate 'Bearer realm="https://registry.test:${ports[i]}/token",service="registry.test"' always;
      return 401 '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}';
    }
    location = /token {
      return 200 '{"token":"bench-token","expires_in":300}';
    }
  }
EOF
  done
  echo "}"
} > "$work/nginx.conf"
nginx -c "$work/nginx.conf" -p "$work" & pids+=($!)

# --- blackbox_exporter: TLS + GET /v2/ expecting the registry's 401, SNI and verification as pullpath does them
start_blackbox "$work" "$bport" 401; bb=$BB; pids+=($bb)

# --- pullpath: the same N registries every T, names from a hosts file, no DNS server needed
printf '127.0.0.1 registry.test\n' > "$work/hosts"
printf 'options ndots:1\n' > "$work/resolv.conf"
{
  cat <<EOF
listen: 127.0.0.1:$pport
interval: ${interval}s
registryInterval: 1h
timeout: 5s
hostsFile: $work/hosts
resolvConf: $work/resolv.conf
resolvers: ["127.0.0.1:9"]
caFiles: ["$work/ca.pem"]
containerdCertsDir: $work/no-certs.d
targets:
EOF
  for i in $(seq 0 $(( n - 1 ))); do printf '  - name: reg%d\n    url: https://registry.test:%d\n' "$i" "${ports[i]}"; done
} > "$work/pullpath.yaml"
# Each agent's file alone in a directory, as /etc/pullpath is on a node: the watcher hears inotify events for its
# directory, and this one is written to all the time (logs, the blackbox loop's count).
mkdir -p "$work/etc" "$work/etc-alt"; mv "$work/pullpath.yaml" "$work/etc/config.yaml"
START_NS=$(date +%s%N)
"$java_bin" "${jvm_flags[@]}" -jar "${CADENCE_JAR:-agent/target/pullpath-agent.jar}" run --config "$work/etc/config.yaml" > "$work/pullpath.log" 2>&1 &
pp=$!; pids+=($pp)
ready_ms=$(await_ready "$pport" "$pp" "$work/pullpath.log")
# A/B in the same minutes: CADENCE_ALT_FLAGS (JVM flags, space-separated), CADENCE_ALT_JAR and CADENCE_ALT_JAVA run a
# second pullpath on the same registries, reported as "pullpath (alt)"; CADENCE_ALT2_* .. CADENCE_ALT6_* more of them.
alt_pids=(); alt_ports=(); alt_names=(); alt_ready=(); alt_desc=()
for k in 1 2 3 4 5 6; do
  sfx=$([ "$k" = 1 ] && echo "" || echo "$k")
  fv="CADENCE_ALT${sfx}_FLAGS"; jv="CADENCE_ALT${sfx}_JAR"; av="CADENCE_ALT${sfx}_JAVA"
  [ -n "${!fv:-}${!jv:-}${!av:-}" ] || continue
  aport=${ports[n+1+k]}
  mkdir -p "$work/etc-alt$k"
  sed "s/^listen: .*/listen: 127.0.0.1:$aport/" "$work/etc/config.yaml" > "$work/etc-alt$k/config.yaml"
  read -r -a alt_flags <<< "${!fv:-@deploy/image/jvm.options}"
  START_NS=$(date +%s%N)
  "${!av:-$java_bin}" "${alt_flags[@]}" -jar "${!jv:-agent/target/pullpath-agent.jar}" run \
    --config "$work/etc-alt$k/config.yaml" > "$work/alt$k.log" 2>&1 &
  pa=$!; pids+=($pa)
  alt_pids+=($pa); alt_ports+=($aport); alt_names+=("pullpath (alt$sfx)")
  alt_desc+=("${!av:-$java_bin} ${!fv:-@deploy/image/jvm.options} -jar ${!jv:-agent/target/pullpath-agent.jar}")
  alt_ready+=("$(await_ready "$aport" "$pa" "$work/alt$k.log")")
done
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$bport/metrics" >/dev/null && break; sleep 0.1; done
bb_url() { echo "http://127.0.0.1:$bport/probe?module=registry&target=https://127.0.0.1:${ports[$1]}/v2/"; }
curl -s "$(bb_url 0)" | grep -q '^probe_success 1' || { echo "blackbox /probe does not succeed:" >&2; curl -s "$(bb_url 0)" >&2; exit 1; }

# The blackbox loop: target i at offset i*T/N within each interval, on a fixed schedule (no drift), counted.
: > "$work/bb-count"
(
  step_ns=$(( interval * 1000000000 / n ))
  t0=$(date +%s%N); k=0
  while :; do
    i=$(( k % n ))
    curl -s -o /dev/null "$(bb_url "$i")" && echo >> "$work/bb-count"
    k=$(( k + 1 ))
    wait_ns=$(( t0 + k * step_ns - $(date +%s%N) ))
    [ "$wait_ns" -gt 0 ] && sleep "$(( wait_ns / 1000000000 )).$(printf '%09d' $(( wait_ns % 1000000000 )))"
  done
) & loop=$!; pids+=($loop)

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
pp_probes() {
  curl -s "http://127.0.0.1:${1:-$pport}/metrics" | awk '/^pullpath_probe_duration_seconds_count\{.*phase="dns"/ {s += $2} END {print s + 0}'
}
pp_successes() { curl -s "http://127.0.0.1:${1:-$pport}/metrics" | awk '/^pullpath_probe_success\{/ {s += $2} END {print s + 0}'; }
threads() { awk '/^Threads/ {print $2}' "/proc/$1/status"; }
# One line per thread: tid, name, utime+stime ticks (the name is in parentheses and may hold spaces).
task_ticks() {
  for t in /proc/"$1"/task/*; do
    sed -E 's/^([0-9]+) \((.*)\) (.*)$/\1 \2|\3/' "$t/stat" 2>/dev/null | awk -F'|' '{split($2, f, " "); print $1 "|" f[12] + f[13]}'
  done
}

sleep "$warmup"
[ -n "${CADENCE_JFR:-}" ] && jcmd "$pp" JFR.start name=cadence settings="${CADENCE_JFR_SETTINGS:-profile}" filename="$CADENCE_JFR" >/dev/null
[ -n "${CADENCE_THREADS:-}" ] && task_ticks "$pp" > "$work/tasks0"
declare -A a0 ca0 a1 ca1
for j in "${!alt_pids[@]}"; do a0[$j]=$(pp_probes "${alt_ports[j]}"); ca0[$j]=$(cpu_ticks "${alt_pids[j]}"); done
p0=$(pp_probes); b0=$(wc -l < "$work/bb-count"); cp0=$(cpu_ticks "$pp"); cb0=$(cpu_ticks "$bb"); t0=$(date +%s%N)
declare -A rsum rmax who; who[pp]=$pp; who[bb]=$bb; players=(pp bb)
for j in "${!alt_pids[@]}"; do who[a$j]=${alt_pids[j]}; players+=(a$j); done
for s in "${players[@]}"; do rsum[$s]=0; rmax[$s]=0; done; samples=0
end=$(( $(date +%s) + window ))
while [ "$(date +%s)" -lt "$end" ]; do
  sleep 5
  for s in "${players[@]}"; do
    pid=${who[$s]}; r=$(rss_kib "$pid"); rsum[$s]=$(( ${rsum[$s]} + r )); [ "$r" -gt "${rmax[$s]}" ] && rmax[$s]=$r
  done
  samples=$(( samples + 1 ))
done
cp1=$(cpu_ticks "$pp"); cb1=$(cpu_ticks "$bb"); t1=$(date +%s%N); p1=$(pp_probes); b1=$(wc -l < "$work/bb-count")
for j in "${!alt_pids[@]}"; do ca1[$j]=$(cpu_ticks "${alt_pids[j]}"); a1[$j]=$(pp_probes "${alt_ports[j]}"); done
[ -n "${CADENCE_THREADS:-}" ] && task_ticks "$pp" > "$work/tasks1"
[ -n "${CADENCE_JFR:-}" ] && jcmd "$pp" JFR.stop name=cadence >/dev/null
[ -n "${CADENCE_NMT:-}" ] && { jcmd "$pp" VM.native_memory summary > "$CADENCE_NMT" 2>&1 || true; }
ok=$(pp_successes); pp_threads=$(threads "$pp"); bb_threads=$(threads "$bb")

elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print (b - a) / 1e9}')
row() { # name cpu-ticks probes rss-sum rss-max threads
  awk -v name="$1" -v c="$2" -v p="$3" -v hz="$hz" -v e="$elapsed" -v rs="$4" -v ns="$samples" -v rm="$5" -v th="$6" 'BEGIN {
    printf "| %-17s | %8d | %14.2f | %13.3f | %5.0f / %-5.0f | %7d |\n", name, p, (p ? 1000 * c / hz / p : 0), 100 * c / hz / e, rs / ns / 1024, rm / 1024, th }'
}
echo
echo "cadence: $n loopback TLS 1.3 registries every ${interval}s, ${window}s window after ${warmup}s warm-up, $(nproc) cores"
echo "pullpath: $("$java_bin" -version 2>&1 | awk 'NR==1'), flags: ${jvm_flags[*]}; blackbox_exporter $(prometheus-blackbox-exporter --version 2>&1 | awk 'NR==1 {print $3}')"
printf '\n| %-17s | %8s | %14s | %13s | %13s | %7s |\n' "" "probes" "CPU ms / probe" "% of one core" "RSS avg / max" "threads"
printf '|%s|%s|%s|%s|%s|%s|\n' "-------------------" "----------" "----------------" "---------------" "---------------" "---------"
row pullpath $(( cp1 - cp0 )) $(( p1 - p0 )) "${rsum[pp]}" "${rmax[pp]}" "$pp_threads"
for j in "${!alt_pids[@]}"; do
  row "${alt_names[j]}" $(( ${ca1[$j]} - ${ca0[$j]} )) $(( ${a1[$j]} - ${a0[$j]} )) "${rsum[a$j]}" "${rmax[a$j]}" "$(threads "${alt_pids[j]}")"
done
row blackbox_exporter $(( cb1 - cb0 )) $(( b1 - b0 )) "${rsum[bb]}" "${rmax[bb]}" "$bb_threads"
echo
echo "pullpath start to /readyz: ${ready_ms} ms; targets succeeding at the end: ${ok}/${n}"
if [ -n "${CADENCE_THREADS:-}" ]; then
  echo "pullpath CPU per thread over the window (ms; threads started in the window count from 0):"
  awk -F'|' -v hz="$hz" 'NR == FNR {a[$1] = $2; next} {d = $2 - a[$1]; if (d > 0) printf "  %8.0f  %s\n", 1000 * d / hz, $1}' \
    "$work/tasks0" "$work/tasks1" | sort -rn
fi
ratio() { awk -v a="$1" -v pa="$2" -v b=$(( cb1 - cb0 )) -v pb=$(( b1 - b0 )) \
  'BEGIN { if (pa && pb && b) printf "%.2f", (a / pa) / (b / pb); else print "n/a" }'; }
for j in "${!alt_pids[@]}"; do
  echo "${alt_names[j]}: ${alt_desc[j]}; start to /readyz ${alt_ready[j]} ms; succeeding $(pp_successes "${alt_ports[j]}")/${n}"
  echo "CPU per probe ratio ${alt_names[j]}/blackbox: $(ratio $(( ${ca1[$j]} - ${ca0[$j]} )) $(( ${a1[$j]} - ${a0[$j]} )))"
done
# Memory at the end (MiB): RSS = anonymous + file-backed (+ shmem); Pss shares file pages among their mappers.
mem_row() { # name pid port
  local st; st=$(awk '/^(VmRSS|RssAnon|RssFile|RssShmem):/ {printf "%s=%d ", $1, $2}' "/proc/$2/status")
  local pss; pss=$(awk '/^Pss:/ {print $2}' "/proc/$2/smaps_rollup" 2>/dev/null || echo 0)
  local m; m=$(curl -s "http://127.0.0.1:$3/metrics")
  local meta; meta=$(awk '/^jvm_memory_committed_bytes\{.*id="Metaspace"/ {print $2}' <<< "$m")
  local cls; cls=$(awk '/^jvm_classes_loaded_classes/ {print $2}' <<< "$m")
  awk -v name="$1" -v st="$st" -v pss="$pss" -v meta="${meta:-0}" -v cls="${cls:-0}" 'BEGIN {
    n = split(st, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2] }
    printf "| %-17s | %6.1f | %6.1f | %6.1f | %6.1f | %9.1f | %7d |\n", name, v["VmRSS:"] / 1024, v["RssAnon:"] / 1024,
      v["RssFile:"] / 1024, pss / 1024, meta / 1048576, cls }'
}
echo
printf '| %-17s | %6s | %6s | %6s | %6s | %9s | %7s |\n' "memory at the end" "RSS" "anon" "file" "Pss" "metaspace" "classes"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' "-------------------" "--------" "--------" "--------" "--------" "-----------" "---------"
mem_row pullpath "$pp" "$pport"
for j in "${!alt_pids[@]}"; do mem_row "${alt_names[j]}" "${alt_pids[j]}" "${alt_ports[j]}"; done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "CPU per probe ratio pullpath/blackbox: $(awk -v a=$(( cp1 - cp0 )) -v pa=$(( p1 - p0 )) -v b=$(( cb1 - cb0 )) -v pb=$(( b1 - b0 )) \
  'BEGIN { if (pa && pb && b) printf "%.2f", (a / pa) / (b / pb); else print "n/a" }')"
