//go:build linux

package collect

import (
	"context"
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
