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
