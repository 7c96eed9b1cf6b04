//go:build linux

package collect

import (
	"context"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// A listener on 0.0.0.0 bound to the loopback device (SO_BINDTODEVICE
// "lo"; ss shows 0.0.0.0%lo) is reachable from this machine only: the
// snapshot says which device, and its exposure is loopback, not all
// interfaces.
func TestListenerBoundToLoopbackDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SO_BINDTODEVICE needs CAP_NET_RAW")
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptString(int(fd), syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, "lo")
		})
		if err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	plain, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	port, plainPort := uint16(ln.Addr().(*net.TCPAddr).Port), uint16(plain.Addr().(*net.TCPAddr).Port)
	snap, err := NewLive().Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		if !s.IsListening() || s.Proto != sockets.TCP || s.Netns != sockets.HostNetns {
			continue
		}
		switch s.LPort {
		case port:
			found++
			if s.BoundIf != 1 || s.Exposure() != sockets.ExposureLoopback {
				t.Errorf("0.0.0.0%%lo:%d: bound to interface %d, exposure %s; want 1 and loopback", port, s.BoundIf, s.Exposure())
			}
		case plainPort:
			found++
			if s.BoundIf != 0 || s.Exposure() != sockets.ExposureAll {
				t.Errorf("0.0.0.0:%d: bound to interface %d, exposure %s; want 0 and all interfaces", plainPort, s.BoundIf, s.Exposure())
			}
		}
	}
	if found != 2 {
		t.Fatalf("found %d of the test's two listeners", found)
	}
}
