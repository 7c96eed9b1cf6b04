#!/usr/bin/env bash
# A CPU profile of the whole poll (collect, traffic, assess, events: what
# the monitor and watch run each second) at N loopback connections, in a
# network and pid namespace of its own (root), so that other sockets and
# processes on the machine are not in it.
#   bash bench/profile.sh 10000 /tmp/poll.pprof
#   go tool pprof -top /tmp/poll.pprof
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/load.sh
n=${1:-10000}
out=$(realpath -m "${2:-poll.pprof}")
if [ "${PW_INSIDE:-}" != 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "needs root (a namespace of its own)"; exit 1; }
  exec unshare --net --pid --fork --mount-proc env PW_INSIDE=1 bash "$0" "$n" "$out"
fi
ip link set lo up
work=$(mktemp -d)
cleanup() { stop_load; rm -rf "$work"; }
trap cleanup EXIT INT TERM
go build -o "$work/load" ./bench/load
go build -o "$work/pollbench" ./bench/pollbench
start_load "$n"
"$work/pollbench" -cpuprofile "$out" -profile-polls "${POLLS:-40}"
echo "profile of ${POLLS:-40} whole polls at $n connections: $out"
