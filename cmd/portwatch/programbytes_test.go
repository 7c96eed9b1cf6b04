//go:build linux

package main

import (
	"net/netip"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func conn(inode uint64, name string, sent, recv uint64) sockets.Socket {
	s := sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr("10.0.0.1"), LPort: 40000,
		Remote: netip.MustParseAddr("10.0.0.2"), RPort: 443, State: sockets.StateEstablished, Inode: inode,
		Traffic: &sockets.Traffic{BytesSent: sent, BytesReceived: recv}}
	if name != "" {
		s.Owners = []*sockets.Process{{PID: 1, Name: name}}
	}
	return s
}

// The per-program counters only grow: a connection adds what it moved
// since the last poll, and keeps what it added when it closes; a poll
// without the kernel's counters adds and forgets nothing.
func TestProgramBytesOnlyGrow(t *testing.T) {
	r := prometheus.NewRegistry()
	p := newProgramBytes(r)
	poll := func(counters bool, socks ...sockets.Socket) {
		p.observe(&sockets.Snapshot{Sockets: socks, Counters: counters})
	}
	value := func(name string) (float64, float64) {
		return testutil.ToFloat64(p.sent.WithLabelValues(name)), testutil.ToFloat64(p.received.WithLabelValues(name))
	}
	poll(true, conn(1, "curl", 100, 1000), conn(2, "curl", 50, 0), conn(3, "nginx", 7, 9))
	if s, r := value("curl"); s != 150 || r != 1000 {
		t.Fatalf("curl after the first poll: %v %v", s, r)
	}
	poll(false)                                                    // no counters asked: nothing changes, nothing is forgotten
	poll(true, conn(1, "curl", 160, 1500), conn(3, "nginx", 7, 9)) // connection 2 closed
	if s, r := value("curl"); s != 210 || r != 1500 {
		t.Errorf("curl after a poll in which one connection moved and one closed: %v %v, want 210 1500", s, r)
	}
	poll(true, conn(1, "curl", 5, 5)) // the inode reused by a new connection
	if s, _ := value("curl"); s != 215 {
		t.Errorf("a reused inode: curl sent %v, want 215", s)
	}
	if n, err := testutil.GatherAndCount(r, "portwatch_program_bytes_sent_total", "portwatch_program_bytes_received_total"); err != nil || n != 4 {
		t.Errorf("%d series registered (%v), want curl and nginx each way", n, err)
	}
	if !p.wantCounters(1) {
		t.Error("counters not wanted right after movement")
	}
	poll(true)
	poll(true)
	if p.wantCounters(4) || !p.wantCounters(6) {
		t.Error("when nothing moves, counters are wanted every third poll")
	}
}
