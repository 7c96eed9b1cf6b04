#!/usr/bin/env bash
# The release, checked as a user would meet it: goreleaser builds a snapshot
# (binaries, tarballs, deb and rpm: .goreleaser.yaml), and the .deb is
# installed with dpkg into a clean Debian root, where portwatch --version
# and man portwatch must work and every file the package promises must be.
#
#   bash scripts/release-check.sh          # as root (debootstrap, chroot)
#
# The clean root is a minbase debootstrap of this machine's Debian release
# from apt's own mirror, with man-db; a pristine copy is kept as a tarball in
# $PORTWATCH_ROOT_CACHE (default /var/cache/portwatch-release-check) and
# unpacked anew for every run, so only the first run waits for the mirror.
# Where debootstrap cannot make one (not Debian, no mirror), the package is
# unpacked with dpkg --root into an empty root instead, and checked from
# outside it (the binary run from ROOT/usr/bin, man -l on the page);
# PORTWATCH_CLEAN_ROOT=dpkg chooses that way.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH:$(go env GOPATH)/bin"

GORELEASER_VERSION=v2.17.0
cache=${PORTWATCH_ROOT_CACHE:-/var/cache/portwatch-release-check}
started=$SECONDS
say() { echo "release-check: $* ($((SECONDS - started))s)"; }
fail() {
  echo "release-check: FAIL: $*" >&2
  exit 1
}
[ "$(id -u)" = 0 ] || fail "needs root (dpkg into a root, chroot)"

# --- goreleaser, from the Go module proxy, at the version the config is written for.
if ! goreleaser --version 2>/dev/null | grep -q "GitVersion: *$GORELEASER_VERSION\$"; then
  say "installing goreleaser $GORELEASER_VERSION"
  go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
fi

# --- the snapshot. goreleaser reads the commit from git, and reads nothing
# (commit "none") when the clone has no remote: give it this clone as one,
# in the environment only.
git_env=()
if [ -z "$(git remote)" ]; then
  git_env=(GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url "GIT_CONFIG_VALUE_0=file://$PWD")
fi
say "goreleaser release --snapshot --clean"
log=$(mktemp)
if ! env "${git_env[@]}" goreleaser release --snapshot --clean >"$log" 2>&1; then
  tail -40 "$log" >&2
  fail "goreleaser release --snapshot --clean failed (the whole log: $log)"
fi
rm -f "$log"

arch=$(dpkg --print-architecture)
debs=(dist/portwatch_*_"$arch".deb)
[ ${#debs[@]} = 1 ] && [ -f "${debs[0]}" ] || fail "want one .deb for $arch in dist/, found: ${debs[*]}"
deb=${debs[0]}
version=$(dpkg-deb -f "$deb" Version)
commit=$(git rev-parse HEAD)
for a in amd64 arm64; do
  for f in dist/portwatch_*_"$a".deb dist/portwatch_*_"$a".rpm dist/portwatch_*_linux_"$a".tar.gz; do
    [ -s "$f" ] || fail "no $f"
  done
done
say "built $(ls dist/*.deb dist/*.rpm dist/*.tar.gz | wc -l) packages and tarballs; installing $deb ($version)"

# --- the binaries are static (CGO_ENABLED=0) and of their architecture.
if command -v readelf >/dev/null; then
  for a in amd64:X86-64 arm64:AArch64; do
    bin=$(ls dist/portwatch_linux_"${a%%:*}"*/portwatch)
    readelf -h "$bin" | grep -q "Machine: *.*${a#*:}" || fail "$bin is not a ${a#*:} binary"
    if readelf -lW "$bin" | grep -q INTERP; then fail "$bin is dynamically linked"; fi
  done
fi

# --- a clean root.
suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
# apt's mirror for that release, from its own sources (deb822 or one-line).
mirror=$(awk -v s="$suite" '
  /^URIs:/ { uri = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s && uri !~ /security/) { print uri; exit } }
  /^deb / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i + 1) == s) { print $i; exit } } }
' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -1)
root=$(mktemp -d /tmp/portwatch-release-root.XXXXXX)
trap 'rm -rf "$root"' EXIT
pristine=$cache/$suite-minbase-man-db.tar
how=""
if [ -n "$suite" ] && [ -n "$mirror" ] && [ "${PORTWATCH_CLEAN_ROOT:-}" != dpkg ]; then
  if [ ! -s "$pristine" ]; then
    if ! command -v debootstrap >/dev/null; then
      say "installing debootstrap"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; } || true
    fi
    if command -v debootstrap >/dev/null; then
      say "debootstrap --variant=minbase --include=man-db $suite (once; kept in $pristine)"
      fresh=$(mktemp -d /tmp/portwatch-debootstrap.XXXXXX)
      if debootstrap --variant=minbase --include=man-db "$suite" "$fresh/root" "$mirror" >"$fresh/log" 2>&1; then
        mkdir -p "$cache"
        tar -C "$fresh/root" -cf "$pristine.part" . && mv "$pristine.part" "$pristine"
      else
        tail -5 "$fresh/log" >&2
        say "debootstrap failed: falling back to dpkg --root"
      fi
      rm -rf "$fresh"
    fi
  fi
  if [ -s "$pristine" ]; then
    tar -C "$root" -xf "$pristine"
    how=debootstrap
  fi
fi

installed=()
if [ "$how" = debootstrap ]; then
  say "dpkg -i in a fresh $suite minbase root (chroot)"
  cp "$deb" "$root/tmp/portwatch.deb"
  chroot "$root" dpkg -i /tmp/portwatch.deb >/dev/null || fail "dpkg -i in the clean root failed"
  chroot "$root" dpkg -s portwatch | grep -q "^Status: install ok installed" || fail "dpkg does not say portwatch is installed"
  out=$(chroot "$root" /usr/bin/portwatch --version) || fail "portwatch --version in the root failed"
  page=$(chroot "$root" env MANPAGER=cat MANWIDTH=80 LANG=C.UTF-8 man portwatch 2>&1) || fail "man portwatch in the root: $page"
  watchpage=$(chroot "$root" env MANPAGER=cat MANWIDTH=80 LANG=C.UTF-8 man portwatch-watch 2>&1) || fail "man portwatch-watch in the root: $watchpage"
  chroot "$root" env PATH=/usr/bin:/bin sh -c 'command -v portwatch' | grep -qx /usr/bin/portwatch || fail "portwatch is not on the root's PATH"
else
  how="dpkg --root"
  say "no clean root from debootstrap: dpkg --root --unpack into an empty root"
  mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers" "$root/tmp"
  : >"$root/var/lib/dpkg/status"
  : >"$root/var/lib/dpkg/available"
  # --unpack runs no maintainer script (the package has no preinst): its
  # postinst would run on this machine, not in the root.
  dpkg --root="$root" --force-depends --force-not-root --unpack "$deb" >/dev/null || fail "dpkg --root --unpack failed"
  out=$("$root/usr/bin/portwatch" --version) || fail "ROOT/usr/bin/portwatch --version failed"
  page=$(MANPAGER=cat MANWIDTH=80 man -l "$root/usr/share/man/man1/portwatch.1.gz" 2>&1) || fail "man -l portwatch.1.gz: $page"
  watchpage=$(MANPAGER=cat MANWIDTH=80 man -l "$root/usr/share/man/man1/portwatch-watch.1.gz" 2>&1) || fail "man -l portwatch-watch.1.gz: $watchpage"
fi

# --- what a user of the package is promised.
echo "  $out"
[[ $out == "portwatch $version, commit $commit, date "2[0-9][0-9][0-9]-* ]] ||
  fail "portwatch --version says \"$out\", want version $version, commit $commit and a date"
grep -Eq "^ *portwatch +- +a +live +monitor" <<<"$page" || fail "man portwatch has no NAME line: $(head -5 <<<"$page")"
grep -q -- "--version" <<<"$page" || fail "man portwatch does not describe --version"
grep -q -- "--log-format" <<<"$watchpage" || fail "man portwatch-watch does not describe --log-format"
for f in usr/bin/portwatch \
  usr/share/man/man1/portwatch.1.gz usr/share/man/man1/portwatch-watch.1.gz usr/share/man/man1/portwatch-baseline-save.1.gz \
  usr/share/bash-completion/completions/portwatch usr/share/zsh/vendor-completions/_portwatch \
  usr/share/fish/vendor_completions.d/portwatch.fish \
  usr/lib/systemd/system/portwatch-watch.service \
  usr/share/portwatch/portwatch-alerts.yml usr/share/doc/portwatch/copyright; do
  [ -s "$root/$f" ] || fail "the package did not install /$f"
done
for u in deploy/systemd/*.service deploy/systemd/*.socket; do
  [ -e "$u" ] || continue
  [ -s "$root/usr/lib/systemd/system/$(basename "$u")" ] || fail "the package did not install the unit $(basename "$u")"
done
for r in deploy/prometheus/*.yml; do
  cmp -s "$r" "$root/usr/share/portwatch/$(basename "$r")" || fail "the package's $(basename "$r") differs from $r"
done
[ -d "$root/etc/portwatch" ] && [ "$(stat -c %a "$root/etc/portwatch")" = 755 ] || fail "/etc/portwatch is not a directory of mode 0755"
exec_line=$(grep '^ExecStart=' "$root/usr/lib/systemd/system/portwatch-watch.service")
[[ $exec_line == ExecStart=/usr/bin/portwatch\ watch\ * ]] || fail "the packaged unit runs \"$exec_line\", want /usr/bin/portwatch watch"
grep -q 'complete -o default -F __start_portwatch portwatch\|__start_portwatch' "$root/usr/share/bash-completion/completions/portwatch" ||
  fail "the bash completion is not portwatch's"

if [ "$how" = debootstrap ]; then
  chroot "$root" dpkg -r portwatch >/dev/null || fail "dpkg -r in the root failed"
  [ ! -e "$root/usr/bin/portwatch" ] || fail "dpkg -r left /usr/bin/portwatch"
fi
say "ok: $how root; --version, man portwatch, man portwatch-watch and every packaged file checked"
