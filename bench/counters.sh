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
. bench/load.sh
if [ "${PW_INSIDE:-}" != 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "needs root (a namespace of its own)"; exit 1; }
  exec unshare --net --pid --fork --mount-proc env PW_INSIDE=1 bash "$0" "$@"
fi
ip link set lo up
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 30000)
work=$(mktemp -d)
cleanup() {
  stop_load
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
go build -o "$work/load" ./bench/load
go build -o "$work/dumpbench" ./bench/dumpbench
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
for n in "${sizes[@]}"; do
  start_load "$n"
  echo "== $n connections ($((2 * n)) sockets) on loopback, in $load_parts load processes"
  "$work/dumpbench" -runs 15
  stop_load
done
