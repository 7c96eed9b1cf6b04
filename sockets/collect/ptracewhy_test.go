//go:build linux

package collect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A process more privileged than portwatch is named as the obstacle, with the capabilities
// portwatch lacks, read from its status file (a recorded /proc: the refusal itself needs a
// sandbox, which the next test finds where it can).
func TestObstacleNamesTheCapabilitiesPortwatchLacks(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "4242")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "status"), []byte("Name:\tinit\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := obstacle(root, 4242, 0x000001fffeffffff)
	if !strings.Contains(got, "capabilities portwatch lacks (CAP_SYS_RESOURCE)") {
		t.Errorf("obstacle = %q", got)
	}
	if got := capList(1<<19 | 1<<33); got != "CAP_SYS_PTRACE, CAP_MAC_ADMIN" {
		t.Errorf("capList = %q", got)
	}
}

// Where root holding CAP_SYS_PTRACE cannot read some process's descriptors (pid 1 of a sandbox),
// the snapshot's reason says what is in the way rather than asking for CAP_SYS_PTRACE.
func TestUnreadableAsRootWithPtraceSaysWhy(t *testing.T) {
	if os.Geteuid() != 0 || !holdsPtrace() {
		t.Skip("needs root holding CAP_SYS_PTRACE")
	}
	src := NewLive()
	snap := snapshot(t, src)
	if snap.Unreadable == nil || len(snap.Unreadable.Processes) == 0 {
		t.Skip("root reads every process's descriptors here: no sandbox in the way")
	}
	if !snap.Unreadable.Ptrace {
		t.Error("the list does not say portwatch held CAP_SYS_PTRACE")
	}
	for _, p := range snap.Unreadable.Processes {
		if !strings.Contains(p.Reason, "though portwatch holds CAP_SYS_PTRACE: ") {
			t.Errorf("pid %d: reason %q does not say what is in the way", p.PID, p.Reason)
		}
	}
}
