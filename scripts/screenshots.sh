#!/usr/bin/env bash
# Makes the README's screenshots from the real program. Run as root:
#   bash scripts/screenshots.sh
# Everything happens in fresh pid, network and UTS namespaces (unshare): the
# services, their clients and portwatch see only each other, pids come out
# the same every run, and no packet leaves the namespace's loopback. The
# monitor runs in tmux at fixed sizes with its clock stopped
# (PORTWATCH_CLOCK); the poll's duration is pinned in the header text. The
# captured screens are normalised by scripts/ansinorm and rendered to PNG by
# freeze at a pinned version. Services that are not installed are skipped
# (apt-get install redis-server nginx-light openssh-server vsftpd).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ "$(id -u)" != 0 ]; then
  echo "screenshots.sh: run as root (it makes namespaces)" >&2
  exit 1
fi
for tool in tmux unshare python3 ip; do
  command -v "$tool" >/dev/null || { echo "screenshots.sh: $tool is needed" >&2; exit 1; }
done

FREEZE_VERSION=v0.2.2
work=$(mktemp -d /tmp/portwatch-shots.XXXXXX)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
go build -o "$work/portwatch" ./cmd/portwatch
go build -o "$work/ansinorm" ./scripts/ansinorm
GOFLAGS= go build -o "$work/freeze" github.com/charmbracelet/freeze@$FREEZE_VERSION 2>/dev/null ||
  (cd "$work" && GOBIN="$work" GOFLAGS= go install github.com/charmbracelet/freeze@$FREEZE_VERSION)

export WORK="$work" ROOT="$root"
unshare --pid --fork --mount-proc --net --uts bash "$root/scripts/screenshots-inside.sh"
echo "screenshots written to screenshots/"
