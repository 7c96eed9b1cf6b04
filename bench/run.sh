#!/usr/bin/env bash
# portwatch's poll against ss, at 1k, 10k and 30k loopback connections.
#   bash bench/run.sh            # all three sizes
#   bash bench/run.sh 10000      # one size
# The load (both ends of every connection, 100 listeners, 300 idle
# processes) lives on 127.0.0.1 only and is torn down on exit or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 30000)
work=$(mktemp -d)
load_pid=""
cleanup() {
  [ -n "$load_pid" ] && kill $load_pid 2>/dev/null && wait $load_pid 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
go build -o "$work/load" ./bench/load
go build -o "$work/pollbench" ./bench/pollbench
ulimit -n "$(ulimit -Hn)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
# A process may hold only `ulimit -Hn` descriptors (20,000 on these
# machines, and not raisable without CAP_SYS_RESOURCE): the load is split
# over as many processes as that needs, 9,000 connections each at most.
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
  echo "== $n connections ($((2 * n)) sockets) on loopback, 100 listeners, 300 idle processes, in $parts load processes"
  "$work/pollbench" -runs 15
  kill $load_pid 2>/dev/null || true
  wait $load_pid 2>/dev/null || true
  exec 3>&-
  load_pid=""
  rm -f "$work/hold" "$work"/ready.*
done
