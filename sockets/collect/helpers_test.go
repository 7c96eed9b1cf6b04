//go:build linux

package collect

import (
	"context"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// snapshot takes a live snapshot or fails the test.
func snapshot(t *testing.T, src *Live) *sockets.Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	snap, err := src.Snapshot(ctx)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return snap
}

// find returns the sockets of the snapshot bound to this local endpoint
// (and, when remote is valid, connected to that remote endpoint).
func find(snap *sockets.Snapshot, proto sockets.Proto, local, remote netip.AddrPort) []sockets.Socket {
	var out []sockets.Socket
	for _, s := range snap.Sockets {
		if s.Proto != proto || s.LPort != local.Port() || s.Local != local.Addr().Unmap() {
			continue
		}
		if remote.IsValid() && (s.RPort != remote.Port() || s.Remote != remote.Addr().Unmap()) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// findOne is find that expects exactly one socket.
func findOne(t *testing.T, snap *sockets.Snapshot, proto sockets.Proto, local, remote netip.AddrPort) sockets.Socket {
	t.Helper()
	got := find(snap, proto, local, remote)
	if len(got) != 1 {
		t.Fatalf("want 1 %s socket %v -> %v, found %d", proto, local, remote, len(got))
	}
	return got[0]
}

func addrPort(t *testing.T, a net.Addr) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		t.Fatalf("parse %v: %v", a, err)
	}
	return ap
}

// listenTCP listens on addr; "tcp4" keeps Go from turning 0.0.0.0 into a
// dual-stack [::] listener.
func listenTCP(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Skipf("cannot listen on %s here: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func hasOwner(s sockets.Socket, pid int) bool {
	for _, p := range s.Owners {
		if int(p.PID) == pid {
			return true
		}
	}
	return false
}

func selfName(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	return string(b[:len(b)-1])
}
