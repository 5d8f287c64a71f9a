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

# bench_pki WORK: a private CA (WORK/ca.pem) and an ECDSA P-256 leaf for registry.test and 127.0.0.1
# (WORK/leaf.pem, WORK/leaf.key), valid two days.
bench_pki() {
  local work=$1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=pullpath bench CA" \
    -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=registry.test" \
    -keyout "$work/leaf.key" -out "$work/leaf.csr" 2>/dev/null
  printf 'subjectAltName=DNS:registry.test,IP:127.0.0.1\n' > "$work/san.ext"
  openssl x509 -req -in "$work/leaf.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
    -extfile "$work/san.ext" -out "$work/leaf.pem" 2>/dev/null
}

# nginx_http_head WORK: the top of an nginx.conf for one worker, everything under WORK, up to "http {"'s first line.
nginx_http_head() {
  local work=$1
  cat <<CONF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work; uwsgi_temp_path $work; scgi_temp_path $work;
CONF
}
