package assess

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/reach"
)

// The counts an Assessor keeps between polls are exactly those a count of
// the whole snapshot gives: over a hundred polls of connections that come,
// go, change state and owner, and floods that build and drain, every
// verdict's flood mark, every listener's connection count and every
// process's socket count match a one-shot assessment of the same snapshot.
func TestRememberedCountsMatchAFreshCount(t *testing.T) {
	kb := testKnowledge(t)
	rng := rand.New(rand.NewPCG(1, 2))
	procs := []*sockets.Process{{PID: 10, Name: "nginx"}, {PID: 11, Name: "nginx"}, {PID: 12, Name: "sshd"}}
	type conn struct {
		inode  uint64
		remote netip.Addr
		rport  uint16
		lport  uint16
		state  string
		owners []*sockets.Process
	}
	var conns []conn
	next := uint64(1000)
	remotes := []netip.Addr{netip.MustParseAddr("10.9.0.1"), netip.MustParseAddr("10.9.0.2"), netip.MustParseAddr("10.9.0.3")}
	as := NewAssessor(kb)
	at := time.Unix(1_000_000, 0)
	for poll := range 100 {
		// churn: a few new, a few gone, a few changed
		for range rng.IntN(30) {
			next++
			conns = append(conns, conn{inode: next, remote: remotes[rng.IntN(len(remotes))], rport: uint16(20000 + next%30000),
				lport: []uint16{80, 443, 22}[rng.IntN(3)], state: sockets.StateEstablished, owners: procs[rng.IntN(2) : rng.IntN(2)+2]})
		}
		for range rng.IntN(20) {
			if len(conns) > 0 {
				i := rng.IntN(len(conns))
				conns = append(conns[:i], conns[i+1:]...)
			}
		}
		for range rng.IntN(5) {
			if len(conns) > 0 {
				c := &conns[rng.IntN(len(conns))]
				c.state = []string{sockets.StateEstablished, "CLOSE_WAIT"}[rng.IntN(2)]
				c.owners = procs[rng.IntN(3):3]
			}
		}
		socks := []sockets.Socket{
			sock(sockets.TCP, "0.0.0.0", 80, "0.0.0.0", 0, sockets.StateListen, 1),
			sock(sockets.TCP, "0.0.0.0", 443, "0.0.0.0", 0, sockets.StateListen, 2),
			sock(sockets.TCP, "0.0.0.0", 22, "0.0.0.0", 0, sockets.StateListen, 3),
		}
		socks[0].Owners, socks[1].Owners, socks[2].Owners = procs[:2], procs[:2], procs[2:]
		for _, c := range conns {
			s := sock(sockets.TCP, "10.0.0.5", c.lport, c.remote.String(), c.rport, c.state, c.inode)
			s.Owners = c.owners
			socks = append(socks, s)
		}
		sockets.SetDirections(socks)
		at = at.Add(time.Second)
		snap := &sockets.Snapshot{Sockets: socks, Taken: at}
		got := as.AssessWith(snap, Context{})
		want := AssessWith(snap, kb, Context{})
		for i := range socks {
			g, w := got.Verdicts[i], want.Verdicts[i]
			if g.Flooded != w.Flooded || g.Conns != w.Conns {
				t.Fatalf("poll %d socket %d (%s): remembered flooded %v conns %d, counted afresh %v %d", poll, i, socks[i].Key(), g.Flooded, g.Conns, w.Flooded, w.Conns)
			}
			// A listener kept from the last poll says what a fresh
			// judgement says, down to its flood findings' counts.
			if socks[i].IsListening() && !slices.Equal(g.Findings, w.Findings) {
				t.Fatalf("poll %d listener %d: remembered findings %v, judged afresh %v", poll, socks[i].LPort, g.Findings, w.Findings)
			}
		}
		for _, p := range procs {
			if got.SocketsOf(p.PID) != want.SocketsOf(p.PID) {
				t.Fatalf("poll %d: pid %d holds %d sockets remembered, %d counted afresh", poll, p.PID, got.SocketsOf(p.PID), want.SocketsOf(p.PID))
			}
		}
	}
}

// The scan memory of an Assessor: a remote address that reached
// ScanThreshold of our ports within ScanWindow is a scanner on every one of
// those connections, still after the connections closed, and no longer once
// the window has passed with none of them.
func TestRememberedScan(t *testing.T) {
	kb := testKnowledge(t)
	as := NewAssessor(kb)
	at := time.Unix(1_000_000, 0)
	scanner := "10.9.9.9"
	poll := func(socks ...sockets.Socket) *Assessment {
		at = at.Add(time.Second)
		sockets.SetDirections(socks)
		return as.AssessWith(&sockets.Snapshot{Sockets: socks, Taken: at}, Context{})
	}
	var listeners []sockets.Socket
	for p := range uint16(ScanThreshold) {
		listeners = append(listeners, sock(sockets.TCP, "0.0.0.0", 8000+p, "0.0.0.0", 0, sockets.StateListen, uint64(p+1)))
	}
	// one connection a poll, each to another port, each gone at the next
	for p := range uint16(ScanThreshold) {
		c := sock(sockets.TCP, "10.0.0.5", 8000+p, scanner, 40000+p, sockets.StateEstablished, uint64(100+p))
		a := poll(append(append([]sockets.Socket{}, listeners...), c)...)
		v := a.Verdicts[len(a.Verdicts)-1]
		if want := p == ScanThreshold-1; (v.Scanned > 0) != want {
			t.Fatalf("after %d ports: scanned %d", p+1, v.Scanned)
		}
	}
	// a new connection from the scanner within the window is marked
	c := sock(sockets.TCP, "10.0.0.5", 8000, scanner, 50000, sockets.StateEstablished, 999)
	if a := poll(append(append([]sockets.Socket{}, listeners...), c)...); a.Verdicts[len(a.Verdicts)-1].Scanned != ScanThreshold {
		t.Fatalf("within the window: scanned %d, want %d", a.Verdicts[len(a.Verdicts)-1].Scanned, ScanThreshold)
	}
	at = at.Add(ScanWindow + time.Second)
	poll(listeners...)
	c = sock(sockets.TCP, "10.0.0.5", 8000, scanner, 50001, sockets.StateEstablished, 1000)
	if a := poll(append(append([]sockets.Socket{}, listeners...), c)...); a.Verdicts[len(a.Verdicts)-1].Scanned != 0 {
		t.Fatalf("after the window: still scanned %d", a.Verdicts[len(a.Verdicts)-1].Scanned)
	}
	if len(as.live.scan.reached) > 1 || len(as.live.scan.ports) > 1 || len(as.live.scan.queue) > ScanThreshold+2 {
		t.Errorf("the scan memory kept %d addresses, %d ports and %d queued ports after the window", len(as.live.scan.reached), len(as.live.scan.ports), len(as.live.scan.queue))
	}
}

// An unchanged listener keeps its verdict from poll to poll (the very same
// *Verdict: not judged again, nothing allocated), and is judged again as
// soon as anything its verdict says moves: its connections, its firewall's
// answer, the baseline, its owners.
func TestUnchangedListenerKeepsItsVerdict(t *testing.T) {
	kb := testKnowledge(t)
	web := &sockets.Process{PID: 10, Name: "nginx", Exe: "/usr/sbin/nginx", User: "www-data"}
	answer := reach.Verdict{Kind: reach.Open, Rule: "chain inet filter input: tcp dport 80 accept # handle 4"}
	fw := func(*sockets.Socket) (reach.Verdict, bool) { return answer, true }
	listener := sock(sockets.TCP, "0.0.0.0", 80, "0.0.0.0", 0, sockets.StateListen, 1)
	listener.Owners = []*sockets.Process{web}
	conn := sock(sockets.TCP, "10.0.0.5", 80, "10.9.0.1", 40000, sockets.StateEstablished, 100)
	conn.Owners = listener.Owners
	as := NewAssessor(kb)
	at := time.Unix(1_000_000, 0)
	var b *baseline.Baseline
	poll := func(socks ...sockets.Socket) *Verdict {
		socks = slices.Clone(socks)
		sockets.SetDirections(socks)
		at = at.Add(time.Second)
		return as.AssessWith(&sockets.Snapshot{Sockets: socks, Taken: at}, Context{Firewall: fw, Baseline: b}).Verdicts[0]
	}
	first := poll(listener)
	if again := poll(listener); again != first {
		t.Fatalf("an unchanged listener was judged again: %p then %p", first, again)
	}
	socks := []sockets.Socket{listener}
	worker := &sockets.Process{PID: 11, Name: "nginx", Exe: "/usr/sbin/nginx", User: "www-data"}
	steps := []struct {
		what   string
		change func()
		check  func(v *Verdict) bool
	}{
		{"a connection came in", func() { socks = append(socks, conn) }, func(v *Verdict) bool { return v.Conns == 1 }},
		{"the firewall now drops it", func() {
			answer = reach.Verdict{Kind: reach.Filtered, Rule: "chain inet filter input: policy drop"}
		}, func(v *Verdict) bool { return v.FirewallKind() == reach.Filtered && !v.Reachable() }},
		{"a baseline that does not expect it", func() {
			var err error
			if b, err = baseline.Parse(strings.NewReader("host tcp all 22 /usr/sbin/sshd root\n"), "test"); err != nil {
				t.Fatal(err)
			}
		}, func(v *Verdict) bool { return v.Baseline.Status == baseline.Unexpected }},
		{"another owner between its first and last", func() {
			socks[0].Owners = []*sockets.Process{web, worker, web}
		}, func(v *Verdict) bool { return len(v.Socket.Owners) == 3 }},
	}
	last := first
	for _, step := range steps {
		step.change()
		v := poll(socks...)
		if v == last || !step.check(v) {
			t.Errorf("%s: the listener's verdict was kept (%v) or says otherwise: conns %d, firewall %s, baseline %v, owners %d",
				step.what, v == last, v.Conns, v.FirewallKind(), v.Baseline.Status, len(v.Socket.Owners))
		}
		if again := poll(socks...); again != v {
			t.Errorf("%s, unchanged since: judged again", step.what)
		}
		last = v
	}
}

// A verdict holds no counters: they change poll after poll while the
// verdict of an unchanged connection is kept, which would show (and hold)
// the first ones; outputs read them from the poll's flows.
func TestVerdictHoldsNoCounters(t *testing.T) {
	kb := testKnowledge(t)
	s := sock(sockets.TCP, "10.0.0.5", 80, "10.9.0.1", 40000, sockets.StateEstablished, 100)
	s.Traffic = &sockets.Traffic{BytesSent: 5000, BytesReceived: 700}
	for name, v := range map[string]*Verdict{
		"remembered": NewAssessor(kb).Assess(&sockets.Snapshot{Sockets: []sockets.Socket{s}}).Verdicts[0],
		"one-shot":   Assess(&sockets.Snapshot{Sockets: []sockets.Socket{s}}, kb).Verdicts[0],
	} {
		if v.Socket.Traffic != nil || v.Socket.Inode != s.Inode {
			t.Errorf("%s: the verdict's socket %v holds counters %+v", name, v.Socket.Key(), v.Socket.Traffic)
		}
	}
}
