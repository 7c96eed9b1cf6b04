//go:build linux

package collect

import (
	"os"
	"path/filepath"
	"testing"
)

// A pid whose namespace link could not be read once (it exited between the
// listing and the read) and that is listed again at the next poll (the pid
// reused by a new process, here the sole member of its own namespace) is
// read again at the next poll: its namespace is dumped (the index once
// skipped such a pid for as long as it was listed).
func TestPidExitedAtOneReadIsReadAgain(t *testing.T) {
	root := t.TempDir()
	mk := func(pid, target string) {
		d := filepath.Join(root, pid, "ns")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if target != "" {
			if err := os.Symlink(target, filepath.Join(d, "net")); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk("self", "net:[4026531840]")
	mk("1", "net:[4026531840]")
	mk("4242", "") // exited since the listing: no ns/net link
	ix := newNetnsIndex(root)
	ix.update([]int32{1, 4242})
	// Before the next poll pid 4242 is reused by a process in a namespace of its own.
	if err := os.Symlink("net:[4026532999]", filepath.Join(root, "4242", "ns", "net")); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		ix.update([]int32{1, 4242})
	}
	inodes, members := ix.foreign()
	if len(inodes) != 1 || len(members[4026532999]) != 1 {
		t.Fatalf("the new namespace of pid 4242 is not listed: inodes %v members %v", inodes, members)
	}
}
