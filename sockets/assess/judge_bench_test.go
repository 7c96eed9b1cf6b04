package assess

import (
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// BenchmarkAssessListeners judges 200 listeners of a packaged daemon and
// 2,000 unchanged connections, as every poll of the monitor does: the
// listeners afresh, the connections from memory. It is what the identity,
// shell and role checks add to a quiet poll.
func BenchmarkAssessListeners(b *testing.B) {
	kb := NewKnowledge("/etc/services", "/proc/sys/net/ipv4/ip_local_port_range")
	p := &sockets.Process{PID: 10, Name: "nginx", Exe: "/usr/sbin/nginx", Cmdline: "nginx: worker process", User: "www-data", UID: 33,
		Unit: "nginx.service", Identity: &sockets.Identity{Proof: sockets.ProofPackage, Package: "nginx", Version: "1.22.1-9", Reason: "installed by nginx 1.22.1-9"}}
	snap := &sockets.Snapshot{}
	for i := 0; i < 200; i++ {
		s := sock(sockets.TCP, "0.0.0.0", uint16(20000+i), "0.0.0.0", 0, sockets.StateListen, uint64(1+i))
		s.Owners, s.OwnerStatus = []*sockets.Process{p}, sockets.OwnerKnown
		snap.Sockets = append(snap.Sockets, s)
	}
	for i := 0; i < 2000; i++ {
		s := sock(sockets.TCP, "10.0.0.5", uint16(20000+i%200), "10.0.0.9", uint16(30000+i), sockets.StateEstablished, uint64(1000+i))
		s.Owners, s.OwnerStatus, s.Direction = []*sockets.Process{p}, sockets.OwnerKnown, sockets.Inbound
		snap.Sockets = append(snap.Sockets, s)
	}
	as := NewAssessor(kb)
	as.Assess(snap)
	b.ReportAllocs()
	for b.Loop() {
		as.Assess(snap)
	}
}

// firstPollSnapshot is bench/load's loopback scene at n connections: a
// server's listener, its n inbound connections and the clients' n
// outbound ones, each side one process of a program no package installed, built in /tmp.
func firstPollSnapshot(n int) *sockets.Snapshot {
	id := &sockets.Identity{Proof: sockets.ProofUnowned, Reason: "no package installed /tmp/pw-bench/load"}
	srv := &sockets.Process{PID: 500, Name: "load", Exe: "/tmp/pw-bench/load", Cmdline: "load -serve -n 10000", User: "root", Identity: id}
	cli := &sockets.Process{PID: 501, Name: "load", Exe: "/tmp/pw-bench/load", Cmdline: "load -dial -n 10000", User: "root", Identity: id}
	l := sock(sockets.TCP, "127.0.0.1", 40000, "0.0.0.0", 0, sockets.StateListen, 1)
	l.Owners, l.OwnerStatus = []*sockets.Process{srv}, sockets.OwnerKnown
	snap := &sockets.Snapshot{Sockets: []sockets.Socket{l}}
	for i := range n {
		in := sock(sockets.TCP, "127.0.0.1", 40000, "127.0.0.1", uint16(20000+i%40000), sockets.StateEstablished, uint64(1000+2*i))
		in.Owners, in.OwnerStatus = []*sockets.Process{srv}, sockets.OwnerKnown
		out := sock(sockets.TCP, "127.0.0.1", uint16(20000+i%40000), "127.0.0.1", 40000, sockets.StateEstablished, uint64(1001+2*i))
		out.Owners, out.OwnerStatus = []*sockets.Process{cli}, sockets.OwnerKnown
		snap.Sockets = append(snap.Sockets, in, out)
	}
	sockets.SetDirections(snap.Sockets)
	return snap
}

// BenchmarkFirstPoll judges every socket of bench/load's 10,000 loopback
// connections afresh, as the monitor's first poll does.
func BenchmarkFirstPoll(b *testing.B) {
	kb := NewKnowledge("/nonexistent", "/nonexistent")
	snap := firstPollSnapshot(10000)
	b.ReportAllocs()
	for b.Loop() {
		NewAssessor(kb).Assess(snap)
	}
}
