#!/usr/bin/env bash
# The monitor idling on the Listening tab at the default interval, with N
# loopback connections: CPU share over 30 s and resident memory. Further
# arguments are portwatch's flags.
#   bash bench/tui.sh 10000
#   bash bench/tui.sh 10000 --interval=2s
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/load.sh
n=${1:-10000}
shift || true
flags="$*"
work=$(mktemp -d)
pids=""
cleanup() {
  tmux -L pwbench kill-server 2>/dev/null || true
  stop_load
  [ -n "$pids" ] && kill $pids 2>/dev/null; wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
go build -o "$work/portwatch" ./cmd/portwatch
go build -o "$work/load" ./bench/load
start_load "$n"
tmux -L pwbench new-session -d -s pw -x 120 -y 40 "$work/portwatch $flags"
sleep 5
pid=$(pgrep -f "^$work/portwatch( |$)")
hz=$(getconf CLK_TCK)
a=$(awk '{print $14+$15}' "/proc/$pid/stat")
sleep 30
b=$(awk '{print $14+$15}' "/proc/$pid/stat")
echo "$n connections${flags:+ ($flags)}: monitor CPU $(echo "scale=1; ($b - $a) * 100 / 30 / $hz" | bc)% of one core, RSS $(awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' "/proc/$pid/status") (peak $(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' "/proc/$pid/status"))"
