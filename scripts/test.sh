#!/usr/bin/env bash
# The test command of the README: every package, with the race detector.
# Arguments go to go test: `bash scripts/test.sh -short` is the quick tier
# (README, Development: what it skips, and what the full run needs).
set -euo pipefail
cd "$(dirname "$0")/.."
# cmd/portwatch runs the built binary against real servers and namespaces:
# under the race detector on a 2-core machine it takes minutes, past go
# test's default of 10 per package.
go test -race -count=1 -timeout 30m "$@" ./...
