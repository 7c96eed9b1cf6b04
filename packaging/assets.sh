#!/usr/bin/env bash
# What the packages install beside the binary, made by portwatch itself so
# that nothing drifts from --help: the man pages (portwatch man DIR,
# gzipped as Debian and Fedora install them), the completions for bash, zsh
# and fish (portwatch completion SHELL), and deploy/systemd's units with
# ExecStart on the packaged binary (/usr/bin, not the README's
# /usr/local/bin for a hand install). goreleaser runs it as its before hook:
#
#   bash packaging/assets.sh VERSION [UNIX_TIME]
#
# VERSION goes into the man pages' header; UNIX_TIME (the commit's) is their
# date, so two builds of one commit give the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:?usage: packaging/assets.sh VERSION [UNIX_TIME]}
# goreleaser says -62135596800 (year 1) when it could read no commit.
when=${2:-}
if ! [[ $when =~ ^[0-9]+$ ]]; then
  when=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH=$when
out=${ASSETS_OUT:-build/release} # .goreleaser.yaml reads build/release; a test writes elsewhere
rm -rf "$out"
mkdir -p "$out/man" "$out/completions" "$out/systemd"

# A binary for this machine, only to write the assets.
CGO_ENABLED=0 go build -trimpath -ldflags "-X main.version=$version" -o "$out/portwatch-host" ./cmd/portwatch

"$out/portwatch-host" man "$out/man"
gzip -9n "$out"/man/*.1
[ -s "$out/man/portwatch.1.gz" ] || { echo "assets: portwatch man wrote no portwatch.1" >&2; exit 1; }

"$out/portwatch-host" completion bash >"$out/completions/portwatch.bash"
"$out/portwatch-host" completion zsh >"$out/completions/_portwatch"
"$out/portwatch-host" completion fish >"$out/completions/portwatch.fish"
rm "$out/portwatch-host"

shopt -s nullglob
units=(deploy/systemd/*.service deploy/systemd/*.socket)
[ ${#units[@]} -gt 0 ] || { echo "assets: no systemd unit in deploy/systemd" >&2; exit 1; }
for u in "${units[@]}"; do
  sed 's#/usr/local/bin/portwatch#/usr/bin/portwatch#g' "$u" >"$out/systemd/$(basename "$u")"
done
echo "assets: $(ls "$out/man" | wc -l) man pages, 3 completions, ${#units[@]} systemd units in $out"
