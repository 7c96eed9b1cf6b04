#!/usr/bin/env bash
# The inside of scripts/screenshots.sh: runs as pid 1 of a fresh pid,
# network and UTS namespace. Starts the demo services, runs portwatch in
# tmux, captures each screen and renders it.
set -euo pipefail
root=$ROOT
# The same paths every run, in command lines too: the work folder is seen
# as /var/tmp (world-writable, like /tmp) in this mount namespace only.
mount --bind "$WORK" /var/tmp
work=/var/tmp
ip link set lo up
hostname web-01
mkdir -p "$work/run" "$root/screenshots"
pids=()
# One at a time, with time to fork its workers, so pids are the same every run.
start() { "$@" >/dev/null 2>&1 & pids+=($!); sleep 0.4; }
cleanup() {
  tmux -L shots kill-server 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# A web server and its worker: one listener, two owners (one worker, so the
# same process accepts every run).
if command -v nginx >/dev/null; then
  cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/run/nginx.pid;
error_log /dev/null;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $work/run; proxy_temp_path $work/run; fastcgi_temp_path $work/run;
  uwsgi_temp_path $work/run; scgi_temp_path $work/run;
  server { listen 0.0.0.0:80; location / { return 200 "hello\n"; } }
}
CONF
  start nginx -c "$work/nginx.conf" -g 'daemon off;'
fi
# A database exposed on every interface: the classic mistake.
if command -v redis-server >/dev/null; then
  start redis-server --port 6379 --bind 0.0.0.0 --protected-mode no --save '' --appendonly no --dir "$work/run"
fi
# SSH, as a server has it.
if [ -x /usr/sbin/sshd ]; then
  ssh-keygen -q -t ed25519 -N '' -f "$work/hostkey" </dev/null
  mkdir -p /run/sshd
  start /usr/sbin/sshd -D -f /dev/null -h "$work/hostkey" -o ListenAddress=0.0.0.0:22 -o PidFile="$work/run/sshd.pid"
fi
# FTP: cleartext logins.
if [ -x /usr/sbin/vsftpd ]; then
  mkdir -p /var/run/vsftpd/empty
  printf 'listen=YES\nlisten_port=21\nanonymous_enable=NO\nbackground=NO\nseccomp_sandbox=NO\n' >"$work/vsftpd.conf"
  start /usr/sbin/vsftpd "$work/vsftpd.conf"
fi
# A developer's web server on loopback, and a resolver-like UDP socket.
start python3 -m http.server 8000 --bind 127.0.0.1
start python3 -c 'import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.53",53)); time.sleep(3600)'
# A "backdoor": a copy of the interpreter in a hidden /tmp folder, listening
# on 31337 of every interface, its binary deleted after start.
mkdir -p "$work/.cache"
# Debian's interpreter runs from anywhere; a pyenv one needs its own tree.
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
cp "$(readlink -f "$py")" "$work/.cache/kworkerd"
start "$work/.cache/kworkerd" -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("0.0.0.0",31337)); s.listen(); time.sleep(3600)'
sleep 1
rm -f "$work/.cache/kworkerd"

# Clients with fixed source ports, so the Established tab is the same every run.
cat >"$work/clients.py" <<'PY'
import socket, time
def conn(port, src, send=b""):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind(("127.0.0.1", src))
    try:
        c.connect(("127.0.0.1", port))
        if send:
            c.sendall(send)
    except OSError:
        pass
    return c
keep = [conn(6379, 41001, b"PING\r\n"), conn(80, 41002, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        conn(22, 41003), conn(31337, 41004), conn(6379, 41005)]
# The server answers and closes; this side does not: CLOSE_WAIT here,
# FIN_WAIT2 there.
keep.append(conn(8000, 41006, b"GET / HTTP/1.0\r\n\r\n"))
# Closed by this side at once: TIME_WAIT.
t = conn(8000, 41007, b"GET / HTTP/1.0\r\n\r\n"); time.sleep(0.5); t.close()
time.sleep(3600)
PY
start python3 "$work/clients.py"
sleep 2

shot() { # name width height keys...
  local name=$1 w=$2 h=$3; shift 3
  tmux -L shots new-session -d -s pw -x "$w" -y "$h" \
    "env TERM=xterm-256color PORTWATCH_CLOCK=2026-11-25T12:00:00Z $work/portwatch --read-only"
  sleep 2.5
  for k in "$@"; do tmux -L shots send-keys -t pw "$k"; sleep 0.4; done
  sleep 1.2
  tmux -L shots capture-pane -e -p -t pw |
    perl -CSD -pe 's/( +)(updated \S+ in )(\S+)/(" " x (length($1) + length($3) - 5)) . $2 . "4.2ms"/e' |
    "$work/ansinorm" >"$work/$name.ansi"
  # freeze cuts the last line of a framed window: give it a blank one.
  printf ' \n' >>"$work/$name.ansi"
  tmux -L shots kill-server
  "$work/freeze" --language ansi --window --padding 20 --font.size 8 --line-height 1.2 \
    --output "$root/screenshots/$name.png" "$work/$name.ansi" >/dev/null
}

shot listening 150 34 G
shot established 120 24 2
shot all-states 120 30 3
shot help 100 40 '?'
shot narrow-80x24 80 24 G
shot profile 100 30 R
