#!/usr/bin/env bash
# pullpath and Prometheus blackbox_exporter side by side, same target, same client, same concurrency, same duration,
# alternating rounds (A B B A ...). Each probe is the same work: TLS 1.3 to a loopback nginx (ECDSA P-256
# certificate, X25519) and GET /v2/. Per system: probes/s, CPU ms per probe (utime+stime from /proc), RSS steady
# and peak, p50/p99 latency as the client saw it; then the client-side crypto floor of one handshake from
# `openssl speed`.
#
# Usage: bash bench/vs-blackbox.sh [seconds-per-round=20] [rounds=3] [concurrency=4] [pullpath JVM flags...]
# (default JVM flags: the image's, deploy/image/jvm.options). Needs: nginx, prometheus-blackbox-exporter, wrk,
# openssl, curl (Debian: nginx-light prometheus-blackbox-exporter wrk openssl curl). Everything listens on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
seconds=${1:-20}; rounds=${2:-3}; conc=${3:-4}; shift $(( $# < 3 ? $# : 3 ))
jvm_flags=("$@")
[ ${#jvm_flags[@]} -eq 0 ] && jvm_flags=("@deploy/image/jvm.options")
for tool in nginx prometheus-blackbox-exporter wrk openssl curl; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install nginx-light prometheus-blackbox-exporter wrk)" >&2; exit 2; }
done
mvn -q -DskipTests package
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
tport=$(free_port); bport=$(free_port); pport=$(free_port)

# --- the target: nginx, TLS 1.3, an ECDSA P-256 leaf under a private CA, /v2/ answering like a registry
bench_pki "$work"
{ nginx_http_head "$work"; cat <<EOF; } > "$work/nginx.conf"
  server {
    listen 127.0.0.1:$tport ssl http2;
    ssl_certificate $work/leaf.pem;
    ssl_certificate_key $work/leaf.key;
    ssl_protocols TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
    location = /v2/ {
      default_type application/json;
      add_header Docker-Distribution-API-Version registry/2.0 always;
      return 200 '{}';
    }
  }
}
EOF
nginx -c "$work/nginx.conf" -p "$work" & pids+=($!)

# --- blackbox_exporter: http_2xx doing TLS + GET /v2/, SNI and verification as pullpath does them
start_blackbox "$work" "$bport" 200; bb=$BB; pids+=($bb)

# --- pullpath: the same target; /probe runs TLS + GET /v2/ on every call (onDemandSpacing 0s, own endpoint only)
printf '127.0.0.1 registry.test\n' > "$work/hosts"
cat > "$work/pullpath.yaml" <<EOF
listen: 127.0.0.1:$pport
interval: 1h
registryInterval: 1h
timeout: 5s
maxConcurrentProbes: 64
onDemandSpacing: 0s
hostsFile: $work/hosts
resolvers: ["127.0.0.1:9"]
caFiles: ["$work/ca.pem"]
containerdCertsDir: $work/no-certs.d
targets:
  - name: reg
    url: https://registry.test:$tport
EOF
START_NS=$(date +%s%N)
java "${jvm_flags[@]}" -jar agent/target/pullpath-agent.jar run --config "$work/pullpath.yaml" > "$work/pullpath.log" 2>&1 &
pp=$!; pids+=($pp)
ready_ms=$(await_ready "$pport" "$pp" "$work/pullpath.log")
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$bport/metrics" >/dev/null && break; sleep 0.1; done

pp_url="http://127.0.0.1:$pport/probe?target=reg"
bb_url="http://127.0.0.1:$bport/probe?module=registry&target=https://127.0.0.1:$tport/v2/"
curl -s "$pp_url" | grep -q '^pullpath_probe_success 1' || { echo "pullpath /probe does not succeed:" >&2; curl -s "$pp_url" >&2; exit 1; }
curl -s "$pp_url" | grep -q 'phase="http"' || { echo "pullpath /probe did not run GET /v2/" >&2; exit 1; }
curl -s "$bb_url" | grep -q '^probe_success 1' || { echo "blackbox /probe does not succeed:" >&2; curl -s "$bb_url" >&2; exit 1; }

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
idle_pp=$(rss_kib "$pp"); idle_bb=$(rss_kib "$bb")

# Warm both (JIT, connection pools) with one short round each, not counted.
wrk -t1 -c"$conc" -d5s "$pp_url" >/dev/null; wrk -t1 -c"$conc" -d5s "$bb_url" >/dev/null

declare -A reqs cpu lat50 lat99 rss errors
for sys in pullpath blackbox; do reqs[$sys]=0; cpu[$sys]=0; lat50[$sys]=""; lat99[$sys]=""; rss[$sys]=0; errors[$sys]=0; done
ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.2f", v / 1000; else if (v ~ /ms$/) printf "%.2f", v + 0; else printf "%.2f", v * 1000 }'; }
run_round() {
  local sys=$1 url pid out c0 c1
  if [ "$sys" = pullpath ]; then url=$pp_url; pid=$pp; else url=$bb_url; pid=$bb; fi
  c0=$(cpu_ticks "$pid")
  out=$(wrk -t1 -c"$conc" -d"${seconds}s" --latency "$url")
  c1=$(cpu_ticks "$pid")
  reqs[$sys]=$(( ${reqs[$sys]} + $(echo "$out" | awk '/requests in/ {print $1}') ))
  cpu[$sys]=$(( ${cpu[$sys]} + c1 - c0 ))
  errors[$sys]=$(( ${errors[$sys]} + $(echo "$out" | awk '/Non-2xx/ {print $NF; f=1} END {if (!f) print 0}') ))
  lat50[$sys]+="$(ms "$(echo "$out" | awk '$1 == "50%" {print $2}')") "
  lat99[$sys]+="$(ms "$(echo "$out" | awk '$1 == "99%" {print $2}')") "
  rss[$sys]=$(rss_kib "$pid")
}
for r in $(seq "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then run_round pullpath; run_round blackbox; else run_round blackbox; run_round pullpath; fi
done
# The probes really did the work: pullpath's /probe answers are counted by the target too (nginx has no counter
# without a log, so the check is the success line above and zero non-2xx answers below).

# PULLPATH_BENCH_SMAPS=FILE keeps pullpath's memory map after the load, to see what its RSS is made of.
if [ -n "${PULLPATH_BENCH_SMAPS:-}" ]; then
  cp "/proc/$pp/smaps" "$PULLPATH_BENCH_SMAPS"
  jcmd "$pp" VM.native_memory summary > "$PULLPATH_BENCH_SMAPS.nmt" 2>&1 || true
fi

floor=$(openssl speed -seconds 2 ecdhx25519 ecdsap256 2>/dev/null | awk '
  /X25519/ && /ecdh/ {x = $NF}
  /nistp256/ && /ecdsa/ {v = $NF}
  END { if (x > 0 && v > 0) printf "%.3f ms (2 X25519 operations: %.0f/s; 2 ECDSA P-256 verifications, CertificateVerify and the leaf: %.0f/s)", 1000 * (2 / x + 2 / v), x, v }')

total=$(( seconds * rounds ))
echo
echo "pullpath vs blackbox_exporter $(prometheus-blackbox-exporter --version 2>&1 | awk 'NR==1 {print $3}'): TLS 1.3 + GET /v2/ to nginx on loopback,"
echo "wrk -c$conc, $rounds rounds of ${seconds}s each per system, alternating; $(nproc) cores; pullpath JVM flags: ${jvm_flags[*]}"
printf '\n| %-34s | %-16s | %-16s |\n' "" "pullpath" "blackbox_exporter"
printf '|%s|%s|%s|\n' "------------------------------------" "------------------" "------------------"
for row in "probes per second" "CPU ms per probe" "RSS idle / under load (MiB)" "RSS peak (MiB)" "latency p50 per round (ms)" "latency p99 per round (ms)" "non-2xx answers"; do
  case "$row" in
    "probes per second") a=$(awk -v n="${reqs[pullpath]}" -v t="$total" 'BEGIN {printf "%.0f", n / t}'); b=$(awk -v n="${reqs[blackbox]}" -v t="$total" 'BEGIN {printf "%.0f", n / t}');;
    "CPU ms per probe") a=$(awk -v c="${cpu[pullpath]}" -v n="${reqs[pullpath]}" -v hz="$hz" 'BEGIN {printf "%.3f", 1000 * c / hz / n}'); b=$(awk -v c="${cpu[blackbox]}" -v n="${reqs[blackbox]}" -v hz="$hz" 'BEGIN {printf "%.3f", 1000 * c / hz / n}');;
    "RSS idle / under load (MiB)") a="$((idle_pp / 1024)) / $((rss[pullpath] / 1024))"; b="$((idle_bb / 1024)) / $((rss[blackbox] / 1024))";;
    "RSS peak (MiB)") a=$(( $(hwm_kib "$pp") / 1024 )); b=$(( $(hwm_kib "$bb") / 1024 ));;
    "latency p50 per round (ms)") a=${lat50[pullpath]}; b=${lat50[blackbox]};;
    "latency p99 per round (ms)") a=${lat99[pullpath]}; b=${lat99[blackbox]};;
    "non-2xx answers") a=${errors[pullpath]}; b=${errors[blackbox]};;
  esac
  printf '| %-34s | %-16s | %-16s |\n' "$row" "$a" "$b"
done
echo
echo "pullpath start to /readyz: ${ready_ms} ms"
echo "client crypto floor per handshake: ${floor}"
echo "CPU ratio pullpath/blackbox: $(awk -v a="${cpu[pullpath]}" -v na="${reqs[pullpath]}" -v b="${cpu[blackbox]}" -v nb="${reqs[blackbox]}" 'BEGIN {printf "%.2f", (a / na) / (b / nb)}')"
