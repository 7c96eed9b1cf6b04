//go:build linux

package lab

import (
	"net/netip"
	"os"
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// TestScenesTakeBlocksOfTheirOwn: two scenes on loopback at once take two
// blocks of ports, each sees the other's sockets as not its own, and Close
// gives the block back and removes the scene's directory.
func TestScenesTakeBlocksOfTheirOwn(t *testing.T) {
	if InNamespace() {
		t.Skip("in a lab's namespace every port is free")
	}
	a, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sa, sb := a.(*scene), b.(*scene)
	if sa.base == sb.base || sa.base%100 != 0 || sb.base%100 != 0 {
		t.Fatalf("bases %d and %d: want two different multiples of 100", sa.base, sb.base)
	}
	on := func(port int) *sockets.Socket {
		return &sockets.Socket{Proto: sockets.TCP, Local: netip.MustParseAddr("127.0.0.1"), LPort: uint16(port), State: sockets.StateListen}
	}
	for _, c := range []struct {
		s    *scene
		port int
		mine bool
	}{{sa, sa.port(PortServer), true}, {sa, sb.port(PortServer), false}, {sb, sb.port(PortServer), true},
		{sb, sa.port(PortServer), false}, {sa, 22, false}} {
		if got := c.s.Mine(on(c.port)); got != c.mine {
			t.Errorf("scene at %d: Mine(port %d) = %v, want %v", c.s.base, c.port, got, c.mine)
		}
	}
	// A lab in a namespace of its own uses the default ports there; as
	// root the collector reads that namespace too. Its server is not
	// this scene's, even on this scene's port (CI: the baseline found
	// another namespace's 62001 UNEXPECTED).
	other := on(sa.port(PortServer))
	other.Netns = "netns:4026532999"
	if sa.Mine(other) {
		t.Errorf("scene at %d: a socket of another namespace on its port %d is Mine", sa.base, other.LPort)
	}
	host := on(sa.port(PortServer))
	host.Netns = sockets.HostNetns
	if !sa.Mine(host) {
		t.Errorf("scene at %d: its own port %d in the host's namespace is not Mine", sa.base, host.LPort)
	}
	if portFree(sa.base) {
		t.Errorf("scene a's block %d is not held", sa.base)
	}
	dir := sa.dir
	if _, err := os.Stat(sa.BaselinePath()); err != nil {
		t.Errorf("scene a's baseline: %v", err)
	}
	a.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("scene a's directory %s after Close: %v", dir, err)
	}
	if !portFree(sa.base) {
		t.Errorf("scene a's block %d still held after Close", sa.base)
	}
}

// portFree reports whether a socket could bind 0.0.0.0:port now, as a
// scene's lock does.
func portFree(port int) bool {
	fd, err := bindPort(port, false)
	if err != nil {
		return false
	}
	closeFD(fd)
	return true
}
