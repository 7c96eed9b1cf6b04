package assess

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// serverConns is a web server's listener and n inbound connections to it,
// ten from each address (below FloodThreshold): a loaded server.
func serverConns(n int) []sockets.Socket { return clientConns(n, 10) }

// clientConns is a web server's listener and n inbound connections to
// it, perAddr from each client address.
func clientConns(n, perAddr int) []sockets.Socket {
	web := &sockets.Process{PID: 100, Name: "nginx", Exe: "/usr/sbin/nginx", User: "www-data", UID: 33}
	socks := []sockets.Socket{{Proto: sockets.TCP, Family: 4, Local: netip.IPv4Unspecified(), LPort: 443, Remote: netip.IPv4Unspecified(),
		State: sockets.StateListen, Inode: 1, Owners: []*sockets.Process{web}, OwnerStatus: sockets.OwnerKnown, Netns: sockets.HostNetns}}
	for i := range n {
		socks = append(socks, sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr("10.0.0.5"), LPort: 443,
			Remote: netip.AddrFrom4([4]byte{10, 1, byte(i / perAddr >> 8), byte(i / perAddr)}), RPort: uint16(1024 + i%60000), State: sockets.StateEstablished,
			Inode: uint64(1000 + i), Owners: []*sockets.Process{web}, OwnerStatus: sockets.OwnerKnown, Netns: sockets.HostNetns})
	}
	sockets.SetDirections(socks)
	return socks
}

// The connections of one server that are judged alike share one outcome:
// a verdict is its socket and a pointer, and the remembering assessor's
// memory per connection (its verdict, its memory, its share of the counts)
// stays under 316 bytes (issue 24: 288 bytes a verdict alone, 192 of them
// its socket; 419 in all, 339 with a scratch array of a pointer a
// connection kept between polls, 319 with a remembered connection of 32
// bytes).
func TestVerdictsShareTheirOutcome(t *testing.T) {
	const n = 20000
	socks := serverConns(n)
	as, a, perConn := heldPerConn(t, socks)
	outcomes := map[*Outcome]bool{}
	for _, v := range a.Verdicts[1:] {
		outcomes[v.Outcome] = true
	}
	t.Logf("%d connections: %d outcomes, %d bytes held a connection (verdicts, memory, counts)", n, len(outcomes), perConn)
	if len(outcomes) > 2 {
		t.Errorf("%d connections judged alike have %d outcomes", n, len(outcomes))
	}
	if perConn > 316 {
		t.Errorf("the assessor holds %d bytes a connection, want at most 316", perConn)
	}
	runtime.KeepAlive(as)
	runtime.KeepAlive(a)
}

// heldPerConn is what a remembering assessor holds a connection once it
// has judged socks (its listener and connections).
func heldPerConn(t *testing.T, socks []sockets.Socket) (*Assessor, *Assessment, int64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	as := NewAssessor(testKnowledge(t))
	a := as.AssessWith(&sockets.Snapshot{Sockets: socks, Taken: time.Unix(1_000_000, 0)}, Context{})
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(socks)
	return as, a, (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / int64(len(socks)-1)
}

// A server's clients each reach a port: the scan memory of 20,000
// connections from as many addresses is an entry of one flat map each, not
// a map and a pointer of their own (issue 24: the assessor held 672 bytes
// a connection of them, 537 since).
func TestScanMemoryOfManyClients(t *testing.T) {
	as, a, perConn := heldPerConn(t, clientConns(20000, 1))
	t.Logf("20,000 connections from as many addresses: %d bytes held a connection", perConn)
	if perConn > 600 {
		t.Errorf("the assessor holds %d bytes a connection of 20,000 clients, want at most 600", perConn)
	}
	if len(as.live.scan.reached) != 20000 || len(a.Verdicts) != 20001 {
		t.Errorf("%d addresses remembered for 20,000 clients", len(as.live.scan.reached))
	}
}

// Verdicts that say something else do not share: a connection whose send
// queue is stuck has its own outcome, with its finding, beside the others.
func TestOutcomesDifferWhereTheyShould(t *testing.T) {
	socks := serverConns(3)
	as := NewAssessor(testKnowledge(t))
	a := as.AssessWith(&sockets.Snapshot{Sockets: socks, Taken: time.Unix(1_000_000, 0)},
		Context{Health: []sockets.Health{0, 0, sockets.HealthSendStuck, 0}})
	v1, stuck, v3 := a.Verdicts[1], a.Verdicts[2], a.Verdicts[3]
	if v1.Outcome != v3.Outcome {
		t.Error("two connections judged alike have outcomes of their own")
	}
	if stuck.Outcome == v1.Outcome || stuck.Health != sockets.HealthSendStuck || hasCode(stuck.Findings, CodeSendQueueStuck) == nil || hasCode(v1.Findings, CodeSendQueueStuck) != nil {
		t.Errorf("a stuck connection beside healthy ones: shared %v, health %v, findings %v and %v", stuck.Outcome == v1.Outcome, stuck.Health, stuck.Findings, v1.Findings)
	}
	if v1.Socket.Inode != 1000 || v3.Socket.Inode != 1002 {
		t.Errorf("verdicts sharing an outcome keep their own sockets: inodes %d and %d", v1.Socket.Inode, v3.Socket.Inode)
	}
}

// The attack surface is counted from the listeners' verdicts alone: the
// sockets say which are listeners, and a connection's verdict (each its own
// allocation, 20,000 cache misses a poll) is not read. Here they are nil.
func TestSurfaceReadsOnlyListeners(t *testing.T) {
	socks := serverConns(3)
	a := NewAssessor(testKnowledge(t)).AssessWith(&sockets.Snapshot{Sockets: socks, Taken: time.Unix(1_000_000, 0)}, Context{})
	want := a.Surface
	only := &Assessment{Verdicts: []*Verdict{a.Verdicts[0], nil, nil, nil}}
	only.measureSurface(socks)
	if only.Surface != want || want.Reachable != 1 || len(only.Profile.Roles) != len(a.Profile.Roles) {
		t.Errorf("the surface of the listener alone: %+v, want %+v (one reachable)", only.Surface, want)
	}
}
