//go:build linux

package collect

import (
	"os"
	"slices"
	"syscall"
	"testing"

	"github.com/portwatch/portwatch/sockets/sockettest"
)

// Descriptors read on several goroutines are the ones a walk one process
// after another reads, each in its pid's place: here this test's own
// process, holding real connections, many times over, and a pid that does
// not exist, whose error stays in its place. Only the test's own sockets
// are compared: the package's earlier tests may leave goroutines that open
// and close sockets of this process meanwhile (a Live's firewall rounds
// and netlink sockets), which made the whole lists differ now and then.
func TestReadDescriptorsInParallelAsInTurn(t *testing.T) {
	own := map[uint64]bool{}
	for range 5 {
		p := sockettest.LoopbackPair(t)
		for _, c := range []syscall.Conn{p.Listener, p.Client, p.Server} {
			own[socketOf(t, c, false).Inode] = true
		}
	}
	self := int32(os.Getpid())
	pids := []int32{}
	for i := range 64 {
		pids = append(pids, self)
		if i == 10 {
			pids = append(pids, 1<<30) // no such process
		}
	}
	read := readDescriptors("/proc", pids)
	want, err := socketInodes("/proc", self)
	if err != nil {
		t.Fatal(err)
	}
	mine := func(held []heldSocket) []heldSocket {
		return slices.DeleteFunc(slices.Clone(held), func(h heldSocket) bool { return !own[h.ino] })
	}
	want = mine(want)
	if len(want) < 15 {
		t.Fatalf("this process holds %d sockets, want its 5 listeners and their connections' 10 ends: %v", len(want), want)
	}
	for i, pid := range pids {
		got := read[i]
		if pid != self {
			if got.err == nil || got.held != nil {
				t.Errorf("place %d, no such process: %v, %v", i, got.held, got.err)
			}
			continue
		}
		if got.err != nil || !sameHeld(mine(got.held), want) {
			t.Errorf("place %d: %v (%v), read in turn %v", i, got.held, got.err, want)
		}
	}
}

func sameHeld(a, b []heldSocket) bool {
	key := func(x, y heldSocket) int { return int(x.fd - y.fd) }
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, key)
	slices.SortFunc(b, key)
	return slices.Equal(a, b)
}
