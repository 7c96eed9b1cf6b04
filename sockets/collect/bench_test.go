//go:build linux

package collect

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
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
// and its parsing, with no owner mapped, with every TCP connection's
// counters (tcp_info) and without. Compare with BenchmarkSnapshot.
func BenchmarkNetlinkDump(b *testing.B) {
	for _, counters := range []bool{true, false} {
		name := map[bool]string{true: "counters", false: "plain"}[counters]
		b.Run(name, func(b *testing.B) {
			l := newNetlinkLister()
			l.counters = counters
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
		})
	}
}

// BenchmarkCheckListeners is what checking every listener's owners adds to
// a poll (a stat of each owner's descriptor): compare with BenchmarkSnapshot
// on the same load.
func BenchmarkCheckListeners(b *testing.B) {
	src := NewLive()
	snap, err := src.Snapshot(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	pids, err := listPIDs("/proc")
	if err != nil {
		b.Fatal(err)
	}
	listeners := 0
	for i := range snap.Sockets {
		if snap.Sockets[i].IsListening() && snap.Sockets[i].Inode != 0 {
			listeners++
		}
	}
	later := time.Now().Add(time.Second) // not the full walk's own poll
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src.index.checkListeners(pids, snap.Sockets, later)
	}
	b.ReportMetric(float64(listeners), "listeners")
}

// BenchmarkDedupe is what dropping repeated inodes adds to a poll, on this
// machine's listing (where nothing is repeated, the usual case).
func BenchmarkDedupe(b *testing.B) {
	socks, err := newNetlinkLister().list(nil, false)
	if err != nil {
		b.Skip("netlink sock_diag is not available here")
	}
	var d deduper
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		socks = d.dedupe(socks)
	}
	b.ReportMetric(float64(len(socks)), "sockets")
}

// BenchmarkOtherNamespace is the listing of another network namespace (one
// the benchmark makes, holding a listener): by netlink from inside it, as
// root polls do, and from its /proc/PID/net tables, the fallback.
func BenchmarkOtherNamespace(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root to make and enter a network namespace")
	}
	cmd := exec.Command("unshare", "--net", "--", "python3", "-c",
		`import socket, sys
s = socket.socket(); s.bind(("0.0.0.0", 0)); s.listen(); print("ready", flush=True); sys.stdin.readline()`)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Skipf("cannot make a network namespace here: %v", err)
	}
	defer func() { in.Close(); cmd.Process.Kill(); cmd.Wait() }()
	if _, err := out.Read(make([]byte, 6)); err != nil {
		b.Fatal(err)
	}
	dir := "/proc/" + strconv.Itoa(cmd.Process.Pid)
	b.Run("netlink", func(b *testing.B) {
		l := newNetlinkLister()
		for i := 0; i < b.N; i++ {
			if socks, err := l.listIn(dir + "/ns/net"); err != nil || len(socks) != 1 {
				b.Fatalf("%d sockets, %v", len(socks), err)
			}
		}
	})
	b.Run("procfs", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if socks, err := readProcNet(dir+"/net", true); err != nil || len(socks) != 1 {
				b.Fatalf("%d sockets, %v", len(socks), err)
			}
		}
	})
}
