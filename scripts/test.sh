#!/usr/bin/env bash
# The test command of the README: every package, with the race detector.
# Arguments go to go test: `bash scripts/test.sh -short` is the quick tier
# (README, Development: what it skips, and what the full run needs).
set -euo pipefail
cd "$(dirname "$0")/.."
go test -race -count=1 "$@" ./...
