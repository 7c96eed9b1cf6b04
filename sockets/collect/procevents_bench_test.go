//go:build linux

package collect

import (
	"os/exec"
	"testing"
	"time"
)

// BenchmarkOwnerIdentity is the process cache's share of a quiet poll with 100 owners, with the
// kernel's process events (a map look-up each) and without (a read of /proc/PID/stat each); it
// reports the stat reads per poll.
//
//	go test -run '^$' -bench OwnerIdentity ./sockets/collect
func BenchmarkOwnerIdentity(b *testing.B) {
	var pids []int32
	for range 100 {
		cmd := exec.Command("sleep", "600")
		if err := cmd.Start(); err != nil {
			b.Skipf("sleep: %v", err)
		}
		b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		pids = append(pids, int32(cmd.Process.Pid))
	}
	for _, mode := range []string{"events", "stat"} {
		b.Run(mode, func(b *testing.B) {
			c := newProcessCache("/proc")
			if mode == "events" {
				ev, err := openProcEvents()
				if err != nil {
					b.Skipf("process events: %v", err)
				}
				defer ev.Close()
				for deadline := time.Now().Add(2 * time.Second); !ev.working(); time.Sleep(10 * time.Millisecond) {
					if time.Now().After(deadline) {
						b.Skip("the kernel did not confirm its process events")
					}
				}
				c.events = ev
			}
			stats := 0
			c.onStat = func(int32) { stats++ }
			poll := func() {
				c.begin(time.Now())
				for _, pid := range pids {
					c.get(b.Context(), pid)
				}
				c.sweep()
			}
			poll() // every process read once, whole
			stats = 0
			b.ResetTimer()
			for b.Loop() {
				poll()
			}
			b.ReportMetric(float64(stats)/float64(b.N), "stat-reads/poll")
		})
	}
}
