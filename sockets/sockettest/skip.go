package sockettest

import (
	"os"
	"testing"
)

// SkipShort skips the test under go test -short, saying what it needs
// (more than about a second, a real server, tmux, nftables, Prometheus, the
// built binary...): -short is the tier that passes on any machine in
// seconds, and the README lists what it leaves out.
func SkipShort(t testing.TB, needs string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("skipped by -short: needs %s", needs)
	}
}

// NeedRoot skips the test unless it runs as root, and under -short (which
// runs nothing that needs root), saying what root is for: "to make a
// network namespace".
func NeedRoot(t testing.TB, forWhat string) {
	t.Helper()
	SkipShort(t, "root "+forWhat)
	if os.Geteuid() != 0 {
		t.Skipf("needs root %s", forWhat)
	}
}
