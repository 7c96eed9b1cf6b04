#!/usr/bin/env bash
# What asking sock_diag for every TCP connection's counters (struct
# tcp_info) costs, at 10k and 30k loopback connections: the kernel's dump
# and a whole poll, with and without them, against ss -tanpi (ss with its
# counters), ss -tanp, ss -tani and ss -tan, in the same run.
#   bash bench/counters.sh            # both sizes
#   bash bench/counters.sh 10000      # one size
# The load is bench/load's, as in run.sh: on 127.0.0.1 only, torn down on
# exit or Ctrl-C. It all runs in a network and pid namespace of its own
# (root), so that other sockets and processes on the machine count for
# neither side.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${PW_INSIDE:-}" != 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "needs root (a namespace of its own)"; exit 1; }
  exec unshare --net --pid --fork --mount-proc env PW_INSIDE=1 bash "$0" "$@"
fi
ip link set lo up
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 30000)
work=$(mktemp -d)
load_pid=""
cleanup() {
  [ -n "$load_pid" ] && kill $load_pid 2>/dev/null && wait $load_pid 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
go build -o "$work/load" ./bench/load
go build -o "$work/dumpbench" ./bench/dumpbench
ulimit -n "$(ulimit -Hn)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
for n in "${sizes[@]}"; do
  parts=$(( (n + 8999) / 9000 ))
  mkfifo "$work/hold"
  exec 3<>"$work/hold"
  load_pid=""
  for p in $(seq "$parts"); do
    "$work/load" -conns $((n / parts)) -listeners $((100 / parts)) -idle $((300 / parts)) <"$work/hold" >"$work/ready.$p" 2>&1 &
    load_pid="$load_pid $!"
  done
  for p in $(seq "$parts"); do
    for _ in $(seq 600); do grep -q ready "$work/ready.$p" 2>/dev/null && break; sleep 0.1; done
    grep -q ready "$work/ready.$p" || { cat "$work/ready.$p"; exit 1; }
  done
  echo "== $n connections ($((2 * n)) sockets) on loopback, in $parts load processes"
  "$work/dumpbench" -runs 15
  kill $load_pid 2>/dev/null || true
  wait $load_pid 2>/dev/null || true
  exec 3>&-
  load_pid=""
  rm -f "$work/hold" "$work"/ready.*
done
