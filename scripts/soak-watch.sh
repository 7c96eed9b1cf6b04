#!/usr/bin/env bash
# A soak of portwatch watch (issue 23): N loopback connections held by
# bench/load, churn beside them (connections opened, used and closed, 50 a
# second, a listener opened and closed every second, and every fifth one
# sent bytes by a short-lived program of a fresh name), and a scraper at 10 requests a second on
# /metrics, for DURATION seconds. It prints watch's resident memory and
# open descriptors every minute. Flat means: after a warm-up of two
# minutes (twice the longest window watch keeps: a minute of traffic
# history, a minute of scan memory), the median RSS of the last third of
# the readings is not above the median of the first third by more than a
# tenth and 8 MiB, and the descriptors end where the warm-up left them
# (a tenth and 2). One reading against one reading measured where the
# garbage collector happened to be: the heap's soft goal moves RSS up and
# down by a third between two cycles, leak or not.
# Every bit of traffic stays on 127.0.0.1, and every loop ends by itself.
#   bash scripts/soak-watch.sh 10000 1800     # the issue's 30 minutes
#   bash scripts/soak-watch.sh 10000 300      # 5 minutes
# ISOLATE=1 runs it all in a network and pid namespace of its own (as
# root), so watch sees only the soak, not what else the machine runs.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${ISOLATE:-}" = 1 ] && [ -z "${SOAK_INSIDE:-}" ]; then
  exec unshare --net --pid --fork --mount-proc env SOAK_INSIDE=1 bash "$0" "$@"
fi
[ -n "${SOAK_INSIDE:-}" ] && ip link set lo up
. bench/load.sh
n=${1:-10000}
duration=${2:-1800}
work=$(mktemp -d)
pids=""
cleanup() {
  stop_load
  [ -n "$pids" ] && kill $pids 2>/dev/null; wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
go build -o "$work/portwatch" ./cmd/portwatch
go build -o "$work/load" ./bench/load
start_load "$n"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
XDG_CONFIG_HOME="$work" "$work/portwatch" watch --metrics-addr "127.0.0.1:$port" --log "$work/events.jsonl" \
  --textfile "$work/portwatch.prom" 2>"$work/stderr" &
pid=$!
pids="$pids $pid"

# The churn and the scraper, in one helper that stops after $duration.
cat >"$work/drive.py" <<'PY'
import os, socket, sys, threading, time, urllib.request, subprocess
duration, port, work = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
end = time.time() + duration
stats = {"scrapes": 0, "refused": 0, "failed": 0, "churned": 0, "programs": 0}
def scraper():
    url = "http://127.0.0.1:%d/metrics" % port
    while time.time() < end:
        t = time.time()
        try:
            urllib.request.urlopen(url, timeout=5).read(); stats["scrapes"] += 1
        except urllib.error.HTTPError as e:
            stats["refused" if e.code == 503 else "failed"] += 1
        except Exception:
            stats["failed"] += 1
        time.sleep(max(0, 0.1 - (time.time() - t)))
def churn():
    ln = socket.socket(); ln.bind(("127.0.0.1", 0)); ln.listen(128)
    addr = ln.getsockname()
    while time.time() < end:
        t = time.time()
        c = socket.create_connection(addr); s, _ = ln.accept()
        c.sendall(b"x" * 4096); s.recv(65536); s.sendall(b"y" * 1024); c.recv(65536)
        c.close(); s.close(); stats["churned"] += 1
        time.sleep(max(0, 0.02 - (time.time() - t)))
def listeners():
    i = 0
    while time.time() < end:
        l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
        if i % 5 == 0:  # a short-lived program of a new name moving bytes to it
            exe = os.path.join(work, "soak-prog-%d" % i)
            os.symlink(sys.executable, exe)
            code = "import socket,time; c=socket.create_connection(('127.0.0.1',%d)); c.sendall(b'z'*8192); time.sleep(2)" % l.getsockname()[1]
            p = subprocess.Popen([exe, "-c", code]); s, _ = l.accept(); s.recv(65536)
            p.wait(); s.close(); os.remove(exe); stats["programs"] += 1
        else:
            time.sleep(1)
        l.close(); i += 1
ts = [threading.Thread(target=f) for f in (scraper, churn, listeners)]
[t.start() for t in ts]; [t.join() for t in ts]
print("driver: %(scrapes)d scrapes, %(refused)d refused, %(failed)d failed; %(churned)d connections churned; %(programs)d short-lived programs" % stats)
PY

for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null || { echo "watch exited:"; cat "$work/stderr"; exit 1; }
python3 "$work/drive.py" "$duration" "$port" "$work" &
driver=$!
pids="$pids $driver"
rss() { kill -0 "$pid" 2>/dev/null || { echo "watch exited:"; cat "$work/stderr"; exit 1; }; awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
fds() { ls "/proc/$pid/fd" | wc -l; }
warmup=$(( duration < 600 ? 10 : 120 )) # short runs: a smoke test
sleep "$warmup"
rss0=$(rss); fds0=$(fds)
echo "after the ${warmup}s warm-up: watch RSS $((rss0 / 1024)) MiB, $fds0 descriptors ($n connections, churn, 10 scrapes a second, ${duration}s)"
elapsed=$warmup
readings=()
while kill -0 "$driver" 2>/dev/null; do
  sleep 5; elapsed=$((elapsed + 5))
  kill -0 "$pid" 2>/dev/null || { echo "watch exited:"; cat "$work/stderr"; exit 1; }
  if [ $((elapsed % 60)) -eq 0 ]; then
    r=$(rss); readings+=("$r")
    echo "${elapsed}s: watch RSS $((r / 1024)) MiB, $(fds) descriptors"
  fi
done
wait "$driver"
rss1=$(rss); fds1=$(fds)
echo "end: watch RSS $((rss1 / 1024)) MiB, $fds1 descriptors; peak $(awk '/VmHWM/ {printf "%d MiB", $2/1024}' "/proc/$pid/status")"
errors=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/^portwatch_poll_errors_total/ {print $2}')
echo "poll errors: $errors"
readings+=("$rss1")
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
third=$(( (${#readings[@]} + 2) / 3 ))
first=$(median "${readings[@]:0:$third}")
last=$(median "${readings[@]: -$third}")
echo "median RSS: first third $((first / 1024)) MiB, last third $((last / 1024)) MiB (${#readings[@]} readings)"
if [ "$last" -gt $((first + first / 10 + 8192)) ]; then
  echo "FAIL: watch's memory grew"; exit 1
fi
if [ "$fds1" -gt $((fds0 + fds0 / 10 + 2)) ]; then
  echo "FAIL: watch's descriptors grew"; exit 1
fi
echo "flat"
