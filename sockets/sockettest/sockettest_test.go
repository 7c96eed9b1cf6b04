//go:build linux

package sockettest

import (
	"io"
	"net/netip"
	"testing"
	"time"
)

// The pair's ends are each other's peers, the kernel lists the connection
// ESTABLISHED both ways, bytes written are delivered, and after the client
// closes first its end waits in TIME_WAIT and the server's is gone.
func TestLoopbackPairIsARealConnection(t *testing.T) {
	p := LoopbackPair(t)
	if p.ClientAddr() != AddrPort(p.Server.RemoteAddr()) || p.ServerAddr() != AddrPort(p.Listener.Addr()) {
		t.Fatalf("client %v, server %v (peer %v), listener %v", p.ClientAddr(), p.ServerAddr(), p.Server.RemoteAddr(), p.Listener.Addr())
	}
	if !p.ClientAddr().Addr().Is4() || p.ClientAddr().Addr() != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("client address %v, want 127.0.0.1 in its 4-byte form", p.ClientAddr())
	}
	for _, c := range []struct{ local, remote netip.AddrPort }{{p.ClientAddr(), p.ServerAddr()}, {p.ServerAddr(), p.ClientAddr()}} {
		if s := State(t, c.local, c.remote); s != "ESTABLISHED" {
			t.Errorf("%v -> %v: %q, want ESTABLISHED", c.local, c.remote, s)
		}
	}
	go p.Client.Write(make([]byte, 1<<20))
	if _, err := io.ReadFull(p.Server, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	WaitDelivered(t, 5*time.Second, p.Client, p.Server)
	if n, err := Unacknowledged(p.Client); n != 0 || err != nil {
		t.Errorf("after WaitDelivered: %d bytes unacknowledged (%v)", n, err)
	}
	p.Client.Close()
	WaitState(t, 5*time.Second, p.ServerAddr(), p.ClientAddr(), "CLOSE_WAIT")
	p.Server.Close()
	WaitState(t, 5*time.Second, p.ClientAddr(), p.ServerAddr(), "TIME_WAIT")
	WaitState(t, 5*time.Second, p.ServerAddr(), p.ClientAddr(), "")
}

// A second connection to the same listener is another pair of ends.
func TestConnectAgain(t *testing.T) {
	p := LoopbackPair(t)
	c, s := Connect(t, p.Listener)
	if AddrPort(c.LocalAddr()) == p.ClientAddr() || AddrPort(s.RemoteAddr()) != AddrPort(c.LocalAddr()) {
		t.Errorf("second connection: client %v, server's peer %v; first client %v", c.LocalAddr(), s.RemoteAddr(), p.ClientAddr())
	}
}

// Within returns as soon as the condition holds, and reports false, after
// the timeout, for one that never does.
func TestWithin(t *testing.T) {
	start := time.Now()
	calls := 0
	if !Within(time.Second, func() (bool, string) { calls++; return calls == 3, "" }) || calls != 3 {
		t.Errorf("Within returned after %d calls", calls)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("three calls took %s", d)
	}
	start = time.Now()
	if Within(50*time.Millisecond, func() (bool, string) { return false, "" }) {
		t.Error("Within reported a condition that never held")
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > 500*time.Millisecond {
		t.Errorf("a condition that never holds: Within gave up after %s, want about 50ms", d)
	}
}

func TestProcEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"0100007F:1F90":                         "127.0.0.1:8080",
		"00000000000000000000000001000000:0016": "[::1]:22",
		"0000000000000000FFFF00000100007F:C350": "127.0.0.1:50000",
	} {
		got, ok := procEndpoint(in)
		if !ok || got != netip.MustParseAddrPort(want) {
			t.Errorf("procEndpoint(%q) = %v %v, want %s", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "0100007F", "0100007F:", "XX00007F:0016", "01007F:0016"} {
		if _, ok := procEndpoint(bad); ok {
			t.Errorf("procEndpoint(%q) accepted", bad)
		}
	}
}
