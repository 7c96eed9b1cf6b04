#!/usr/bin/env bash
# The monitor's answer to a key while polls run, at N loopback connections:
# how long after the first poll the rows show, then for KEYS presses (the
# help, then the Established tab and back to Listening, in turn, 2 s apart)
# the time from tmux's send-keys until the screen reads differently, and
# the monitor's RSS. In a network and pid namespace of its own (root), so
# other sockets and processes on the machine are not in it.
#   bash bench/keys.sh 100000
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
sock=pwkeys-$PW_TAG
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null || true
  stop_load
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
go build -o "$work/portwatch" ./cmd/portwatch
go build -o "$work/load" ./bench/load
start_load "$n"
screen() { tmux -L "$sock" capture-pane -p -t keys; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
t0=$(date +%s%N)
tmux -L "$sock" new-session -d -s keys -x 120 -y 40 "$work/portwatch"
# The first poll is in once the tab bar counts the connections.
until screen | grep -qE 'Established \([1-9][0-9]{3,}'; do
  [ "$(ms "$t0")" -lt 60000 ] || { echo "no rows after 60 s"; screen; exit 1; }
  sleep 0.02
done
echo "$n connections: rows shown $(ms "$t0") ms after the start"
sleep 3
pid=$(pgrep -f "^$work/portwatch( |$)")
keys=(? ? 2 1)
worst=0
times=""
for i in $(seq "${KEYS:-12}"); do
  key=${keys[$(( (i - 1) % 4 ))]}
  before=$(screen)
  t=$(date +%s%N)
  tmux -L "$sock" send-keys -t keys "$key"
  while [ "$(screen)" = "$before" ]; do
    [ "$(ms "$t")" -lt 10000 ] || break
  done
  d=$(ms "$t")
  times="$times $d"
  [ "$d" -gt "$worst" ] && worst=$d
  sleep 2
done
echo "  key to screen (ms):$times; worst $worst ms"
echo "  RSS $(awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' "/proc/$pid/status") (peak $(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' "/proc/$pid/status"))"
