//go:build linux

package collect

import (
	"net"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// An idle connection's keep-alive probes do not make it a new value dump
// after dump: they move only the segment counters, which portwatch does
// not keep (each probe made a new value for every connection, 4,000 a
// counted poll at 20,000 sockets under Go's default 15 s keep-alive).
func TestKeepAlivesLeaveIdleCountersShared(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for keep-alive probes (4 s)")
	}
	ln := sockettest.Listen(t, "tcp4", "127.0.0.1:0")
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	const pairs = 20
	for range pairs {
		c, s := sockettest.Connect(t, ln)
		for _, e := range []*net.TCPConn{c, s} {
			// A probe a second once idle a second.
			if err := e.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: time.Second, Interval: time.Second, Count: 9}); err != nil {
				t.Fatal(err)
			}
		}
	}
	l := newNetlinkLister()
	mine := func() map[uint64]*sockets.Traffic {
		socks, err := l.list(nil, false)
		if err != nil {
			t.Fatal(err)
		}
		out := map[uint64]*sockets.Traffic{}
		for _, s := range socks {
			if s.Traffic != nil && s.State == sockets.StateEstablished && (s.LPort == port || s.RPort == port) {
				out[s.Inode] = s.Traffic
			}
		}
		return out
	}
	time.Sleep(1500 * time.Millisecond) // the first probes: the window the first ack settles
	before := mine()
	time.Sleep(2500 * time.Millisecond) // two probes more each way
	after := mine()
	if len(before) != 2*pairs || len(after) != 2*pairs {
		t.Fatalf("%d then %d of the %d connections' ends listed with counters", len(before), len(after), 2*pairs)
	}
	renewed := 0
	for ino, tr := range after {
		if before[ino] != tr {
			renewed++
			if renewed == 1 {
				t.Logf("before %+v\nafter  %+v", *before[ino], *tr)
			}
		}
	}
	if renewed > 0 {
		t.Errorf("%d of %d idle connection ends got new counters over their keep-alives", renewed, len(after))
	}
}
