package sockets

import (
	"context"
	"net/netip"
	"testing"
)

// BenchmarkSnapshot is one steady-state poll of this machine (bench/run.sh
// sets up a load to run it against).
func BenchmarkSnapshot(b *testing.B) {
	src := NewLive()
	ctx := context.Background()
	src.Snapshot(ctx)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := src.Snapshot(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNetlinkDump is the floor of a poll: the kernel's sock_diag dump
// and its parsing, with no owner mapped. Compare with BenchmarkSnapshot.
func BenchmarkNetlinkDump(b *testing.B) {
	l := newNetlinkLister()
	socks, err := l.list(nil, false)
	if err != nil {
		b.Skip("netlink sock_diag is not available here")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if socks, err = l.list(socks, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(socks)), "sockets")
}

func syntheticSockets(n int) []Socket {
	socks := make([]Socket, 0, n)
	for i := 0; i < n; i++ {
		socks = append(socks, Socket{Proto: TCP, Family: 4, Local: netip.MustParseAddr("10.0.0.1"), LPort: 443,
			Remote: netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}), RPort: uint16(1024 + i%60000),
			State: StateEstablished, Inode: uint64(i + 1)})
	}
	return socks
}

// BenchmarkDiff compares two polls of 20,000 sockets with 1% churn.
func BenchmarkDiff(b *testing.B) {
	prev := syntheticSockets(20000)
	cur := append(syntheticSockets(20000)[200:], syntheticSockets(20200)[20000:]...)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Diff(prev, cur)
	}
}
