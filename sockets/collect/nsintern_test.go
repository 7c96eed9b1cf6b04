//go:build linux

package collect

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// connectedNamespace starts a network namespace of the test's own with a
// few idle loopback connections in it, held by a python3 inside; it ends
// with the test. It gives the namespace's path.
func connectedNamespace(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"unshare", "ip", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	script := `import socket, sys
ln = socket.socket(); ln.bind(("127.0.0.1", 0)); ln.listen()
keep = []
for _ in range(5):
    c = socket.create_connection(ln.getsockname()); s, _ = ln.accept(); keep += [c, s]
print("ready", flush=True)
sys.stdin.read()
`
	c := startChild(t, exec.Command("unshare", "-n", "sh", "-c", `ip link set lo up && exec python3 -c "$0"`, script))
	select {
	case l, ok := <-c.lines:
		if !ok || l != "ready" {
			t.Skipf("no namespace of the test's own here (%q)", l)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the namespace was not ready within 20 s")
	}
	return fmt.Sprintf("/proc/%d/ns/net", c.pid())
}

// Each other namespace's idle connections keep their counters' values
// dump after dump, with namespaces dumped in turn: one interner shared by
// every namespace compared each one's counters with the last namespace's,
// and made them all new, every poll.
func TestOtherNamespacesKeepTheirIdleCounters(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: entering another network namespace")
	}
	a, b := connectedNamespace(t), connectedNamespace(t)
	l := newNetlinkLister()
	counters := func(ns string) map[uint64]*sockets.Traffic {
		socks, err := l.listIn(ns)
		if err != nil {
			t.Fatal(err)
		}
		out := map[uint64]*sockets.Traffic{}
		for _, s := range socks {
			if s.Traffic != nil {
				out[s.Inode] = s.Traffic
			}
		}
		return out
	}
	firstA, firstB := counters(a), counters(b)
	if len(firstA) != 10 || len(firstB) != 10 {
		t.Fatalf("%d and %d connection ends with counters, want 10 in each namespace", len(firstA), len(firstB))
	}
	for round := range 3 {
		for name, ns := range map[string]string{"a": a, "b": b} {
			first := firstA
			if name == "b" {
				first = firstB
			}
			for ino, tr := range counters(ns) {
				if first[ino] != tr {
					t.Errorf("round %d, namespace %s: connection %d's idle counters are a new value", round, name, ino)
				}
			}
		}
	}
	if len(l.others) != 2 {
		t.Errorf("%d interners for 2 namespaces", len(l.others))
	}
}
