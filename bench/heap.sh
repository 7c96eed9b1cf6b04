#!/usr/bin/env bash
# Profiles of the monitor's whole poll (collection, traffic, assessment,
# events and the rows: bench/heapbench, a poll a second) at N loopback
# connections, in a network and pid namespace of its own
# (root), so that other sockets and processes on the machine are not in it:
# CPU, and the heap (inuse_space: what the rows and the poll's memory hold
# after a collection; alloc_space: what the polls allocated), with the live
# heap, the allocations a poll and the RSS.
#   bash bench/heap.sh 10000 /tmp/prof      # /tmp/prof/{cpu,mem,first}.pprof (first: the first poll)
#   FIRST=1 bash bench/heap.sh 100000 /tmp/prof   # the first poll only, without the heap profile's sampling
#   go tool pprof -sample_index=inuse_space -top /tmp/prof/mem.pprof
#   go tool pprof -sample_index=alloc_space -base /tmp/prof/mem.pprof.base -top /tmp/prof/mem.pprof
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/load.sh
n=${1:-10000}
out=$(realpath -m "${2:-prof}")
if [ "${PW_INSIDE:-}" != 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "needs root (a namespace of its own)"; exit 1; }
  exec unshare --net --pid --fork --mount-proc env PW_INSIDE=1 bash "$0" "$n" "$out"
fi
ip link set lo up
mkdir -p "$out"
work=$(mktemp -d)
cleanup() { stop_load; rm -rf "$work"; }
trap cleanup EXIT INT TERM
go build -o "$work/load" ./bench/load
go build -o "$work/heapbench" ./bench/heapbench
start_load "$n"
if [ "${FIRST:-}" = 1 ]; then # the first poll's time and CPU profile alone: a heap profile's sampling slows every allocation
  "$work/heapbench" -polls "${POLLS:-3}" -firstprofile "$out/first.pprof"
  exit
fi
"$work/heapbench" -polls "${POLLS:-30}" -cpuprofile "$out/cpu.pprof" -memprofile "$out/mem.pprof" -firstprofile "$out/first.pprof"
echo "profiles of ${POLLS:-30} monitor polls at $n connections: $out/cpu.pprof, $out/mem.pprof"
