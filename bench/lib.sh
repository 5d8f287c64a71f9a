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
