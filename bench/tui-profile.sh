#!/usr/bin/env bash
# A CPU profile of the monitor itself (its polls, merges, drawing and
# garbage collection, as it runs) idling on the Listening tab for 40 s with
# N loopback connections, in a network and pid namespace of its own (root).
#   bash bench/tui-profile.sh 10000 /tmp/tui.pprof
#   go tool pprof -top /tmp/tui.pprof
#   go tool pprof -sample_index=alloc_space -top /tmp/tui.pprof.mem
#   BIN=/path/to/portwatch bash bench/tui-profile.sh 10000 /tmp/other.pprof   # another build
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/load.sh
n=${1:-10000}
out=$(realpath -m "${2:-tui.pprof}")
if [ "${PW_INSIDE:-}" != 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "needs root (a namespace of its own)"; exit 1; }
  exec unshare --net --pid --fork --mount-proc env PW_INSIDE=1 PW_TAG=$$ bash "$0" "$n" "$out"
fi
ip link set lo up
work=$(mktemp -d)
sock=pwprofile-$PW_TAG
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null || true
  stop_load
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
if [ -n "${BIN:-}" ]; then cp "$BIN" "$work/portwatch"; else go build -o "$work/portwatch" ./cmd/portwatch; fi
go build -o "$work/load" ./bench/load
start_load "$n"
rm -f "$out" "$out.mem"
tmux -L "$sock" new-session -d -s p -x 120 -y 40 "env PORTWATCH_CPUPROFILE=$out PORTWATCH_MEMPROFILE=$out.mem $work/portwatch"
sleep "${SECS:-40}"
tmux -L "$sock" send-keys -t p q
for _ in $(seq 100); do [ -s "$out" ] && ! pgrep -f "^$work/portwatch" >/dev/null && break; sleep 0.1; done
echo "profiles of the monitor over ${SECS:-40} s at $n connections: $out (CPU), $out.mem (allocations: -sample_index=alloc_space)"
