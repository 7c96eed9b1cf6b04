//go:build linux

package firewall

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time: with other work on the machine, CPU time per
// operation is steadier than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkCacheUnchanged is the per-poll cost with an unchanged ruleset: one generation request
// (in another namespace: entering it on a locked thread to open the netlink socket, then the request).
func BenchmarkCacheUnchanged(b *testing.B) {
	l := newLab(b, "bench")
	l.nft(labRules)
	for _, bc := range []struct {
		name string
		pid  int
		ino  uint64
	}{{"other-netns", l.pid, l.nsInode()}, {"own-netns", 0, 0}} {
		b.Run(bc.name, func(b *testing.B) {
			var c Cache
			if _, err := c.Ruleset(bc.pid, bc.ino); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := cpuTime()
			for i := 0; i < b.N; i++ {
				if _, err := c.Ruleset(bc.pid, bc.ino); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
			b.StopTimer()
			c.Close()
			if c.reads.Load() != 1 {
				b.Fatalf("%d reads of an unchanged ruleset", c.reads.Load())
			}
		})
	}
}

// BenchmarkReadAndEvaluate is a fresh read of the lab's ruleset (through setns) and 100 evaluations
// of wildcard TCP listeners: what a poll costs after the firewall changed.
func BenchmarkReadAndEvaluate(b *testing.B) {
	l := newLab(b, "bench2")
	l.nft(labRules)
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	defer func() { reportCPU(b, start) }()
	for i := 0; i < b.N; i++ {
		rs, err := Read(l.pid)
		if err != nil {
			b.Fatal(err)
		}
		for p := uint16(8000); p < 8100; p++ {
			if v := rs.Evaluate("tcp", wildcard, p); v.Kind == Unknown {
				b.Fatalf("port %d: %+v", p, v)
			}
		}
	}
}
