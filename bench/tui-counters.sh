#!/usr/bin/env bash
# The monitor idling with N loopback connections, with the TCP counters
# (the default) and without (PORTWATCH_NO_COUNTERS=1), side by side: both
# run at the same time against the same load, so that a noisy machine
# weighs on both alike. In the same window, the CPU of `ss -tanp` (median
# of 10 runs) gives the budget's yardstick: each monitor's CPU per second
# against one ss -tanp per second. Everything runs in a network and pid
# namespace of its own (root), so that other sockets and processes on the
# machine are not counted.
#   bash bench/tui-counters.sh 10000
#   BEFORE=/path/to/portwatch bash bench/tui-counters.sh 10000   # a third monitor: another build
#   WATCH=1 bash bench/tui-counters.sh 10000   # and portwatch watch (--log, --textfile), as a service runs it
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/load.sh
n=${1:-10000}
if [ "${PW_INSIDE:-}" != 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "needs root (a namespace of its own)"; exit 1; }
  exec unshare --net --pid --fork --mount-proc env PW_INSIDE=1 PW_TAG=$$ bash "$0" "$@"
fi
ip link set lo up
work=$(mktemp -d)
pids=""
sock=pwcounters-$PW_TAG # inside the namespace $$ is 1
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null || true
  rm -f "/tmp/tmux-$(id -u)/$sock"
  stop_load
  [ -n "$pids" ] && kill $pids 2>/dev/null; wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
mkdir -p "$work/counters"
go build -o "$work/counters/portwatch" ./cmd/portwatch
mkdir -p "$work/plain" && cp "$work/counters/portwatch" "$work/plain/portwatch"
[ -n "${BEFORE:-}" ] && mkdir -p "$work/before" && cp "$BEFORE" "$work/before/portwatch"
go build -o "$work/load" ./bench/load
start_load "$n"
names="counters plain"
[ -n "${BEFORE:-}" ] && names="$names before"
[ "${WATCH:-}" = 1 ] && names="$names watch"
tmux -L "$sock" new-session -d -s counters -x 120 -y 40 "$work/counters/portwatch"
tmux -L "$sock" new-session -d -s plain -x 120 -y 40 "env PORTWATCH_NO_COUNTERS=1 $work/plain/portwatch"
[ -n "${BEFORE:-}" ] && tmux -L "$sock" new-session -d -s before -x 120 -y 40 "$work/before/portwatch"
if [ "${WATCH:-}" = 1 ]; then
  # No baseline file: the default one is not read (XDG_CONFIG_HOME is empty).
  mkdir -p "$work/watch" && cp "$work/counters/portwatch" "$work/watch/portwatch"
  XDG_CONFIG_HOME="$work" "$work/watch/portwatch" watch --log "$work/events.jsonl" --textfile "$work/portwatch.prom" 2>"$work/watch.err" &
  pids="$pids $!"
fi
sleep 5
hz=$(getconf CLK_TCK)
declare -A pid a
for m in $names; do
  pid[$m]=$(pgrep -f "^$work/$m/portwatch( |$)")
  a[$m]=$(awk '{print $14+$15}' "/proc/${pid[$m]}/stat")
done
start=$(date +%s.%N)
# ss -tanp, ten times over the window, its CPU from the shell's children.
ss_ms=$(python3 - <<'PY'
import resource, subprocess, time
runs = []
for _ in range(10):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["ss", "-tanp"], stdout=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    runs.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    time.sleep(2.5)
runs.sort()
print(f"{runs[len(runs)//2]:.1f}")
PY
)
left=$(echo "30 - ($(date +%s.%N) - $start)" | bc)
[ "$(echo "$left > 0" | bc)" = 1 ] && sleep "$left"
secs=$(echo "$(date +%s.%N) - $start" | bc)
echo "$n connections ($((2 * n)) sockets); ss -tanp: $ss_ms ms CPU (median of 10)"
for m in $names; do
  b=$(awk '{print $14+$15}' "/proc/${pid[$m]}/stat")
  cpu=$(echo "scale=2; ($b - ${a[$m]}) * 100 / $secs / $hz" | bc)
  ratio=$(echo "scale=3; $cpu * 10 / $ss_ms" | bc)
  echo "  $m: $cpu% of one core (${ratio}x one ss -tanp a second), RSS $(awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' "/proc/${pid[$m]}/status") (peak $(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' "/proc/${pid[$m]}/status"))"
done
