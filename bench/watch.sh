#!/usr/bin/env bash
# portwatch watch, as a service runs it, at the default interval with N
# loopback connections: CPU share over 30 s and resident memory, measured
# as bench/tui.sh measures the monitor, so the two compare. It writes its
# events to a file (--log) and rewrites a node_exporter textfile after
# every poll (--textfile); further arguments are more of watch's flags.
# With MONITOR=1 the monitor runs too, in tmux, on the same load and with
# the same flags where it takes them (--interval), and both are measured
# over the same 30 s: on a busy machine, the fairest comparison.
#   bash bench/watch.sh 10000
#   bash bench/watch.sh 10000 --interval=2s
#   bash bench/watch.sh 10000 --metrics-addr=127.0.0.1:9273
#   MONITOR=1 bash bench/watch.sh 10000
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/load.sh
n=${1:-10000}
shift || true
flags="$*"
work=$(mktemp -d)
pids=""
tmuxsock="pwbench-watch-$$"
cleanup() {
  tmux -L "$tmuxsock" kill-server 2>/dev/null || true
  stop_load
  [ -n "$pids" ] && kill $pids 2>/dev/null; wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
go build -o "$work/portwatch" ./cmd/portwatch
go build -o "$work/load" ./bench/load
start_load "$n"
# No baseline file: the default one is not read (XDG_CONFIG_HOME is empty).
XDG_CONFIG_HOME="$work" "$work/portwatch" watch --log "$work/events.jsonl" --textfile "$work/portwatch.prom" $flags 2>"$work/stderr" &
pid=$!
pids="$pids $pid"
mpid=""
if [ "${MONITOR:-}" = 1 ]; then
  mflags=$(printf '%s\n' $flags | grep -E '^--interval' | tr '\n' ' ' || true)
  tmux -L "$tmuxsock" new-session -d -s pw -x 120 -y 40 "XDG_CONFIG_HOME=$work $work/portwatch $mflags 2>$work/monitor.err"
fi
sleep 5
kill -0 "$pid" 2>/dev/null || { echo "watch exited:"; cat "$work/stderr"; exit 1; }
if [ "${MONITOR:-}" = 1 ]; then
  mpid=$(pgrep -f "^$work/portwatch( --interval.*)? *$" || true)
  [ -n "$mpid" ] || { echo "the monitor did not start"; exit 1; }
fi
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
a=$(ticks "$pid"); [ -n "$mpid" ] && ma=$(ticks "$mpid")
sleep 30
b=$(ticks "$pid")
if [ -n "$mpid" ]; then
  mb=$(ticks "$mpid" 2>/dev/null) || { echo "the monitor exited:"; cat "$work/monitor.err"; exit 1; }
fi
rss() { echo "RSS $(awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' "/proc/$1/status") (peak $(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' "/proc/$1/status"))"; }
echo "$n connections${flags:+ ($flags)}: watch CPU $(echo "scale=1; ($b - $a) * 100 / 30 / $hz" | bc)% of one core, $(rss "$pid"), textfile $(wc -c <"$work/portwatch.prom") bytes"
if [ -n "$mpid" ]; then
  echo "$n connections${mflags:+ ($mflags)}: monitor CPU $(echo "scale=1; ($mb - $ma) * 100 / 30 / $hz" | bc)% of one core, $(rss "$mpid"), in the same 30 s"
fi
