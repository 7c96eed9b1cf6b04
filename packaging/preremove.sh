#!/bin/sh
# Before the package is removed (not upgraded): the service stops and is
# disabled, so no unit is left pointing at a binary that is gone.
# dpkg says "remove"; rpm gives the number of versions left, 0 on removal.
set -e
case "$1" in
remove | 0) ;;
*) exit 0 ;;
esac
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl disable --now portwatch-watch.service >/dev/null 2>&1 || true
fi
exit 0
