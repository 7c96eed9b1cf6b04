# Sourced by the bench scripts: the load of bench/load, N loopback
# connections with both ends in its own processes, 100 listeners and 300
# idle processes, held until stop_load. A process may hold only
# `ulimit -Hn` descriptors (20,000 on these machines, not raisable without
# CAP_SYS_RESOURCE), so the load is split over as many processes as that
# needs, 9,000 connections each at most. The script sets $work (a scratch
# folder) and builds $work/load first; it kills $load_pids on exit.

load_pids=""
load_parts=0

# start_load N starts the load and returns once every part is ready.
start_load() {
  local n=$1 p
  ulimit -n "$(ulimit -Hn)"
  load_parts=$(( (n + 8999) / 9000 ))
  mkfifo "$work/hold"
  exec 3<>"$work/hold"
  for p in $(seq "$load_parts"); do
    "$work/load" -conns $((n / load_parts)) -listeners $((100 / load_parts)) -idle $((300 / load_parts)) \
      <"$work/hold" >"$work/ready.$p" 2>&1 &
    load_pids="$load_pids $!"
  done
  for p in $(seq "$load_parts"); do
    for _ in $(seq 600); do grep -q ready "$work/ready.$p" 2>/dev/null && break; sleep 0.1; done
    grep -q ready "$work/ready.$p" || { cat "$work/ready.$p"; return 1; }
  done
}

# stop_load ends the load and clears its files, for the next size.
stop_load() {
  if [ -n "$load_pids" ]; then
    kill $load_pids 2>/dev/null || true
    wait $load_pids 2>/dev/null || true
  fi
  exec 3>&-
  load_pids=""
  rm -f "$work/hold" "$work"/ready.*
}
