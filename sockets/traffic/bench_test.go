package traffic

import (
	"net/netip"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// benchSnapshot is n connections with counters and n/100 listeners.
func benchSnapshot(n int) *sockets.Snapshot {
	var socks []sockets.Socket
	for i := range n / 100 {
		socks = append(socks, listener(uint64(1+i), "127.0.0.1", uint16(1000+i)))
	}
	for i := range n {
		s := tcpConn(uint64(100000+i), uint16(1000+i%(n/100)), uint16(30000+i), sockets.Traffic{BytesSent: 1, RTT: 30})
		s.Local, s.Remote = netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.1")
		if i%2 == 0 {
			s.Direction = sockets.Inbound
		}
		socks = append(socks, s)
	}
	return &sockets.Snapshot{Taken: t0, Sockets: socks}
}

// BenchmarkObserveIdle is the tracker's share of a quiet poll of 20,000
// connections: nothing moved, their counters are the last poll's values.
func BenchmarkObserveIdle(b *testing.B) {
	snap := benchSnapshot(20000)
	tr := NewTracker()
	tr.Observe(snap)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		snap.Taken = snap.Taken.Add(time.Second)
		tr.Observe(snap)
	}
}

// BenchmarkObserveBusy is the same with every connection moving.
func BenchmarkObserveBusy(b *testing.B) {
	snap := benchSnapshot(20000)
	tr := NewTracker()
	tr.Observe(snap)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		snap.Taken = snap.Taken.Add(time.Second)
		for j := range snap.Sockets {
			if c := snap.Sockets[j].Traffic; c != nil {
				moved := *c
				moved.BytesSent += 1000
				snap.Sockets[j].Traffic = &moved
			}
		}
		tr.Observe(snap)
	}
}

// BenchmarkObserveChurn is a quiet poll of 20,000 connections where one
// in a hundred closed and another opened since the last poll.
func BenchmarkObserveChurn(b *testing.B) {
	snap := benchSnapshot(20000)
	tr := NewTracker()
	tr.Observe(snap)
	next := uint64(1 << 30)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		snap.Taken = snap.Taken.Add(time.Second)
		for j := 200 + i%100; j < len(snap.Sockets); j += 100 {
			snap.Sockets[j].Inode = next
			next++
		}
		tr.Observe(snap)
	}
}
