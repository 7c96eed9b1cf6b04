#!/usr/bin/env bash
# portwatch's poll against ss, at 1k, 10k and 30k loopback connections.
#   bash bench/run.sh            # all three sizes
#   bash bench/run.sh 10000      # one size
# The load (both ends of every connection, 100 listeners, 300 idle
# processes) lives on 127.0.0.1 only and is torn down on exit or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/load.sh
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 30000)
work=$(mktemp -d)
cleanup() {
  stop_load
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
go build -o "$work/load" ./bench/load
go build -o "$work/pollbench" ./bench/pollbench
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
for n in "${sizes[@]}"; do
  start_load "$n"
  echo "== $n connections ($((2 * n)) sockets) on loopback, 100 listeners, 300 idle processes, in $load_parts load processes"
  "$work/pollbench" -runs 15
  stop_load
done
