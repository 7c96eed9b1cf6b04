#!/bin/sh
# After the package is installed or upgraded: systemd reads the new unit.
# The service is not enabled: it needs a baseline first
# (portwatch baseline save /etc/portwatch/baseline, then review it).
# A service already running is restarted on an upgrade, onto the new binary.
set -e
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload || true
	if systemctl is-active --quiet portwatch-watch.service; then
		systemctl try-restart portwatch-watch.service || true
	fi
fi
exit 0
