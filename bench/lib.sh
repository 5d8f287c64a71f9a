# Shared by the bench scripts (sourced, not run).

# await_ready PORT PID LOG: waits until pullpath on 127.0.0.1:PORT answers /readyz, failing with its log if the
# process PID exits first; prints the milliseconds since START_NS (set it just before starting the agent).
await_ready() {
  local port=$1 pid=$2 log=$3
  for _ in $(seq 1500); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
    kill -0 "$pid" 2>/dev/null || { echo "pullpath exited:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.02
  done
  echo $(( ($(date +%s%N) - START_NS) / 1000000 ))
}

# start_blackbox WORK PORT STATUS: blackbox_exporter on 127.0.0.1:PORT with one module, "registry": TLS with SNI
# registry.test and WORK/ca.pem (verification as pullpath does it), then GET expecting STATUS. Sets BB to its PID.
start_blackbox() {
  local work=$1 port=$2 status=$3
  cat > "$work/blackbox.yml" <<YAML
modules:
  registry:
    prober: http
    timeout: 5s
    http:
      method: GET
      preferred_ip_protocol: ip4
      valid_status_codes: [$status]
      tls_config:
        ca_file: $work/ca.pem
        server_name: registry.test
YAML
  prometheus-blackbox-exporter --config.file="$work/blackbox.yml" --web.listen-address="127.0.0.1:$port" \
    --log.level=warn > "$work/blackbox.log" 2>&1 &
  BB=$!
}
