package traffic

import (
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

var t0 = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

// tcpConn is a TCP connection from 10.0.0.5:lport to 10.0.0.9:rport with these
// counters.
func tcpConn(inode uint64, lport, rport uint16, c sockets.Traffic) sockets.Socket {
	return sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr("10.0.0.5"), LPort: lport,
		Remote: netip.MustParseAddr("10.0.0.9"), RPort: rport, State: sockets.StateEstablished, Inode: inode,
		Traffic: &c, Direction: sockets.Outbound}
}

func listener(inode uint64, addr string, port uint16) sockets.Socket {
	return sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr(addr), LPort: port,
		Remote: netip.IPv4Unspecified(), State: sockets.StateListen, Inode: inode}
}

func inbound(s sockets.Socket) sockets.Socket {
	s.Direction = sockets.Inbound
	return s
}

func snapAt(at time.Time, socks ...sockets.Socket) *sockets.Snapshot {
	return &sockets.Snapshot{Taken: at, Sockets: socks}
}

func near(got, want float64) bool { return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want)) }

// The rate is the bytes that moved over the real time between the two
// listings (the snapshots' Taken), not over the poll interval; the first
// listing of a connection has no rate.
func TestRatesOverTheRealElapsedTime(t *testing.T) {
	tr := NewTracker()
	p := tr.Observe(snapAt(t0, tcpConn(1, 40000, 80, sockets.Traffic{BytesSent: 1000, BytesReceived: 5000})))
	if f := p.Flows[0]; f == nil || f.Measured || f.In != 0 || f.Out != 0 {
		t.Fatalf("first listing: %+v, want an unmeasured flow", f)
	}
	// 2.5 s later (a poll that came late): 5 MB in, 250 kB out.
	p = tr.Observe(snapAt(t0.Add(2500*time.Millisecond), tcpConn(1, 40000, 80, sockets.Traffic{BytesSent: 251000, BytesReceived: 5005000})))
	f := p.Flows[0]
	if !f.Measured || !near(f.In, 2e6) || !near(f.Out, 1e5) {
		t.Fatalf("after 2.5 s: in %v out %v (measured %v), want 2e6 and 1e5", f.In, f.Out, f.Measured)
	}
	if f.Counters.BytesReceived != 5005000 {
		t.Errorf("counters %+v", f.Counters)
	}
}

// A connection that does not move keeps the very same *Flow: nothing is
// allocated for it, and the monitor sees by pointer that it is idle. Its
// counters become the last poll's value even when collection made a new
// one.
func TestAnIdleConnectionKeepsItsFlow(t *testing.T) {
	tr := NewTracker()
	c := sockets.Traffic{BytesSent: 10, BytesReceived: 20, RTT: 50}
	tr.Observe(snapAt(t0, tcpConn(1, 40000, 80, c)))
	a := tr.Observe(snapAt(t0.Add(time.Second), tcpConn(1, 40000, 80, c))).Flows[0]
	if !a.Measured || a.In != 0 || a.Out != 0 || a.History != nil {
		t.Fatalf("idle connection: %+v", a)
	}
	for i := 2; i < 5; i++ {
		b := tr.Observe(snapAt(t0.Add(time.Duration(i)*time.Second), tcpConn(1, 40000, 80, c))).Flows[0]
		if b != a {
			t.Fatalf("poll %d: a new flow %+v for an idle connection", i, b)
		}
	}
	snap := snapAt(t0.Add(5*time.Second), tcpConn(1, 40000, 80, c))
	allocs := testing.AllocsPerRun(20, func() {
		snap.Taken = snap.Taken.Add(time.Second)
		tr.Observe(snap)
	})
	// The Poll and its slice of flows: not a flow.
	if allocs > 2 {
		t.Errorf("%v allocations a poll for one idle connection", allocs)
	}
}

// A sender that pauses reads zero at the very next poll.
func TestAPausedSenderDropsToZero(t *testing.T) {
	tr := NewTracker()
	sent := uint64(0)
	var f *Flow
	for i := range 4 {
		sent += 2_000_000
		f = tr.Observe(snapAt(t0.Add(time.Duration(i)*time.Second), tcpConn(1, 40000, 80, sockets.Traffic{BytesSent: sent}))).Flows[0]
	}
	if !near(f.Out, 2e6) {
		t.Fatalf("sending: out %v", f.Out)
	}
	f = tr.Observe(snapAt(t0.Add(4*time.Second), tcpConn(1, 40000, 80, sockets.Traffic{BytesSent: sent}))).Flows[0]
	if f.Out != 0 || !f.Measured {
		t.Errorf("paused: out %v, want 0 at once", f.Out)
	}
	if f.History == nil || f.History.Peak() < 1.9e6 {
		t.Errorf("the minute's history lost the burst: %+v", f.History)
	}
}

// An inode that names another connection (its counters started again, or
// its ports differ) is a new connection: no rate, never a negative one.
func TestACounterResetIsANewConnection(t *testing.T) {
	tr := NewTracker()
	tr.Observe(snapAt(t0, tcpConn(7, 40000, 80, sockets.Traffic{BytesSent: 9e9, BytesReceived: 9e9})))
	f := tr.Observe(snapAt(t0.Add(time.Second), tcpConn(7, 40000, 80, sockets.Traffic{BytesSent: 100, BytesReceived: 9e9 + 5}))).Flows[0]
	if f.Measured || f.In != 0 || f.Out != 0 {
		t.Errorf("counters went down: %+v, want a new, unmeasured connection", f)
	}
	f = tr.Observe(snapAt(t0.Add(2*time.Second), tcpConn(7, 40001, 80, sockets.Traffic{BytesSent: 200, BytesReceived: 9e9 + 10}))).Flows[0]
	if f.Measured {
		t.Errorf("the inode now names another port: %+v, want unmeasured", f)
	}
	f = tr.Observe(snapAt(t0.Add(3*time.Second), tcpConn(7, 40001, 80, sockets.Traffic{BytesSent: 300, BytesReceived: 9e9 + 10}))).Flows[0]
	if !f.Measured || !near(f.Out, 100) {
		t.Errorf("the poll after: %+v, want 100 B/s out", f)
	}
}

// Retransmits are counted in uint32 arithmetic: a counter that wrapped
// still rose.
func TestRetransmitsThatWrapStillRise(t *testing.T) {
	tr := NewTracker()
	retrans := uint32(math.MaxUint32 - 1)
	var f *Flow
	for i := range 4 {
		f = tr.Observe(snapAt(t0.Add(time.Duration(i)*time.Second), tcpConn(1, 40000, 80, sockets.Traffic{Retransmits: retrans}))).Flows[0]
		retrans += 2 // wraps at the second poll
	}
	if f.Health&sockets.HealthRetransmits == 0 {
		t.Errorf("retransmits rose in 3 polls across the wrap: health %b", f.Health)
	}
}

// Retransmits "keep climbing" once the counter rose in 3 of the last 5
// polls, and stop once it rose in none of them; in between the state
// stays, so it does not flicker.
func TestRetransmitsClimbing(t *testing.T) {
	tr := NewTracker()
	retrans := uint32(0)
	rises := []bool{false, true, false, true, true, false, true, false, false, false, false, false, false}
	want := []bool{false, false, false, false, true, true, true, true, true, true, true, false, false}
	//              poll 0 is the first listing: nothing to compare with
	for i, rise := range rises {
		if rise {
			retrans += 3
		}
		f := tr.Observe(snapAt(t0.Add(time.Duration(i)*time.Second), tcpConn(1, 40000, 80, sockets.Traffic{Retransmits: retrans, BytesSent: uint64(i) * 1000}))).Flows[0]
		if got := f.Health&sockets.HealthRetransmits != 0; got != want[i] {
			t.Errorf("poll %d: climbing %v, want %v", i, got, want[i])
		}
	}
}

// A send queue that holds data while the peer acknowledges nothing is
// stuck after StuckAfter; with the peer's window at zero, because the
// peer does not read. Any acknowledgement, or an empty queue, clears it.
func TestSendQueueStuck(t *testing.T) {
	tr := NewTracker()
	tr.StuckAfter = 3 * time.Second
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	full := sockets.Traffic{BytesSent: 5000, SendQueue: 4 << 20, SendWindow: 0, WindowKnown: true}
	health := func(s int, c sockets.Traffic) sockets.Health {
		return tr.Observe(snapAt(at(s), tcpConn(1, 40000, 80, c))).Flows[0].Health
	}
	health(0, sockets.Traffic{BytesSent: 1000})
	for s := 1; s <= 3; s++ {
		if h := health(s, full); h != 0 {
			t.Fatalf("%d s with a full queue: health %b, want none yet", s, h)
		}
	}
	if h := health(4, full); h != sockets.HealthSendStuck|sockets.HealthZeroWindow {
		t.Fatalf("after 3 s without an acknowledgement: health %b, want stuck with a zero window", h)
	}
	moving := full
	moving.BytesSent += 10
	if h := health(5, moving); h != 0 {
		t.Errorf("the peer acknowledged: health %b, want none", h)
	}
	// A broken path: the window is open, nothing comes back.
	open := moving
	open.SendWindow = 65535
	for s := 6; s <= 9; s++ {
		health(s, open)
	}
	if h := health(10, open); h != sockets.HealthSendStuck {
		t.Errorf("no acknowledgement with an open window: health %b, want stuck only", h)
	}
	empty := open
	empty.SendQueue = 0
	if h := health(11, empty); h != 0 {
		t.Errorf("empty queue: health %b", h)
	}
}

// A listener's rate sums its inbound connections that moved: on every
// address, all of its port's; on one address, those to that address.
func TestAListenerSumsItsConnections(t *testing.T) {
	tr := NewTracker()
	mk := func(sent, recv uint64) []sockets.Socket {
		a := inbound(tcpConn(11, 80, 50000, sockets.Traffic{BytesSent: sent, BytesReceived: recv}))
		b := inbound(tcpConn(12, 80, 50001, sockets.Traffic{BytesSent: 2 * sent}))
		other := inbound(tcpConn(13, 80, 50002, sockets.Traffic{BytesSent: 3 * sent}))
		other.Local = netip.MustParseAddr("10.0.0.6")
		out := tcpConn(14, 40000, 80, sockets.Traffic{BytesSent: 100 * sent}) // outbound: not the listener's
		return []sockets.Socket{listener(1, "0.0.0.0", 80), listener(2, "10.0.0.6", 80), listener(3, "0.0.0.0", 22), a, b, other, out}
	}
	tr.Observe(snapAt(t0, mk(0, 0)...))
	p := tr.Observe(snapAt(t0.Add(time.Second), mk(1000, 500)...))
	all, one, idle := p.Flows[0], p.Flows[1], p.Flows[2]
	if !near(all.Out, 6000) || !near(all.In, 500) || all.Active != 3 || all.Counters != nil {
		t.Errorf("0.0.0.0:80: %+v, want out 6000 in 500 over 3", all)
	}
	if !near(one.Out, 3000) || one.Active != 1 {
		t.Errorf("10.0.0.6:80: %+v, want out 3000 over 1", one)
	}
	if idle == nil || !idle.Measured || idle.Total() != 0 {
		t.Errorf("idle listener: %+v, want a measured 0", idle)
	}
	again := tr.Observe(snapAt(t0.Add(2*time.Second), mk(1000, 500)...)).Flows[2]
	if again != idle {
		t.Error("an idle listener got a new flow")
	}
}

// Sockets without counters (UDP, TIME_WAIT) have no flow; without any
// counters at all (/proc/net) there are no flows, not even listeners'.
func TestNoCountersNoFlows(t *testing.T) {
	tr := NewTracker()
	udp := sockets.Socket{Proto: sockets.UDP, Family: 4, State: sockets.StateEstablished, Inode: 9}
	p := tr.Observe(snapAt(t0, listener(1, "0.0.0.0", 80), udp))
	if p.Flows != nil || p.Health != nil {
		t.Errorf("no counters: %+v", p)
	}
	p = tr.Observe(snapAt(t0.Add(time.Second), listener(1, "0.0.0.0", 80), udp, tcpConn(3, 40000, 80, sockets.Traffic{})))
	if p.Flows[1] != nil || p.Flows[0] == nil || p.Flows[2] == nil {
		t.Errorf("flows %v: want none for UDP only", p.Flows)
	}
}

// Connections that are no longer listed are forgotten, and their
// histories with them.
func TestGoneConnectionsAreForgotten(t *testing.T) {
	tr := NewTracker()
	tr.Observe(snapAt(t0, tcpConn(1, 40000, 80, sockets.Traffic{}), tcpConn(2, 40001, 80, sockets.Traffic{})))
	tr.Observe(snapAt(t0.Add(time.Second), tcpConn(1, 40000, 80, sockets.Traffic{BytesSent: 10}), tcpConn(2, 40001, 80, sockets.Traffic{BytesSent: 10})))
	if tr.histories != 2 {
		t.Fatalf("%d histories, want 2", tr.histories)
	}
	tr.Observe(snapAt(t0.Add(2*time.Second), tcpConn(2, 40001, 80, sockets.Traffic{BytesSent: 10})))
	if len(tr.conns) != 1 || tr.histories != 1 {
		t.Errorf("%d connections and %d histories kept, want 1 and 1", len(tr.conns), tr.histories)
	}
}

// A snapshot that says it has counters gives its listeners a flow even
// before any connection exists: the monitor's rate columns do not come and
// go with the first connection.
func TestListenersOfASnapshotWithCounters(t *testing.T) {
	tr := NewTracker()
	snap := snapAt(t0, listener(1, "0.0.0.0", 80))
	snap.Counters = true
	tr.Observe(snap)
	snap.Taken = t0.Add(time.Second)
	p := tr.Observe(snap)
	if len(p.Flows) != 1 || p.Flows[0] == nil || !p.Flows[0].Measured || p.Flows[0].Total() != 0 {
		t.Errorf("flows %+v, want a measured 0 for the listener", p.Flows)
	}
}

// An inode that named a listener and now names a connection (or the other
// way) starts again, and the bound on histories stays counted right.
func TestAnInodeThatChangesKind(t *testing.T) {
	tr := NewTracker()
	tr.Observe(snapAt(t0, listener(5, "0.0.0.0", 80), inbound(tcpConn(6, 80, 50000, sockets.Traffic{}))))
	tr.Observe(snapAt(t0.Add(time.Second), listener(5, "0.0.0.0", 80), inbound(tcpConn(6, 80, 50000, sockets.Traffic{BytesSent: 10}))))
	if tr.histories != 2 {
		t.Fatalf("%d histories, want the connection's and the listener's", tr.histories)
	}
	p := tr.Observe(snapAt(t0.Add(2*time.Second), tcpConn(5, 80, 50000, sockets.Traffic{BytesSent: 10}), listener(6, "0.0.0.0", 80)))
	if f := p.Flows[0]; f.Measured || f.Counters == nil {
		t.Errorf("the former listener's inode: %+v, want a new connection", f)
	}
	if f := p.Flows[1]; f.Counters != nil || f.Total() != 0 {
		t.Errorf("the former connection's inode: %+v, want a listener", f)
	}
	if tr.histories != 0 {
		t.Errorf("%d histories counted for none kept", tr.histories)
	}
}

// The counters are wanted while something moves, has a health state or is
// not measured yet, and every IdleRecheck while nothing does; a snapshot
// without them keeps every flow as it was (the same values), and a
// connection first seen without them reads as not measured and makes the
// next poll want them.
func TestCountersWantedWhileMovingAndNowAndThen(t *testing.T) {
	tr := NewTracker()
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	withCounters := func(s float64, socks ...sockets.Socket) *Poll {
		snap := snapAt(at(s), socks...)
		snap.Counters = true
		return tr.Observe(snap)
	}
	without := func(s float64, socks ...sockets.Socket) *Poll {
		for i := range socks {
			socks[i].Traffic = nil
		}
		return tr.Observe(snapAt(at(s), socks...))
	}
	if !tr.Wants(at(0)) {
		t.Fatal("the first poll does not want counters")
	}
	withCounters(0, listener(1, "0.0.0.0", 80), inbound(tcpConn(2, 80, 50000, sockets.Traffic{})))
	if !tr.Wants(at(1)) {
		t.Error("a connection not measured yet: the next poll should want counters")
	}
	p := withCounters(1, listener(1, "0.0.0.0", 80), inbound(tcpConn(2, 80, 50000, sockets.Traffic{BytesSent: 5000})))
	if !tr.Wants(at(2)) {
		t.Error("something moved: the next poll should want counters")
	}
	moving := p.Flows[1]
	p = withCounters(2, listener(1, "0.0.0.0", 80), inbound(tcpConn(2, 80, 50000, sockets.Traffic{BytesSent: 5000})))
	idle, idleListener := p.Flows[1], p.Flows[0]
	if idle == moving || idle.Out != 0 {
		t.Fatalf("stopped: %+v", idle)
	}
	if tr.Wants(at(3)) || tr.Wants(at(4.9)) || !tr.Wants(at(5)) {
		t.Errorf("nothing moves: counters wanted at 3 s %v, 4.9 s %v, 5 s %v; want only every %v", tr.Wants(at(3)), tr.Wants(at(4.9)), tr.Wants(at(5)), IdleRecheck)
	}
	p = without(3, listener(1, "0.0.0.0", 80), inbound(tcpConn(2, 80, 50000, sockets.Traffic{})))
	if p.Flows[1] != idle || p.Flows[0] != idleListener {
		t.Errorf("a poll without counters changed the flows: %+v", p.Flows)
	}
	// A connection opened meanwhile.
	p = without(4, listener(1, "0.0.0.0", 80), inbound(tcpConn(2, 80, 50000, sockets.Traffic{})), tcpConn(3, 40000, 443, sockets.Traffic{}))
	if f := p.Flows[2]; f == nil || f.Measured || f.Counters != nil {
		t.Errorf("a new connection without counters: %+v, want not measured", f)
	}
	if !tr.Wants(at(4.1)) {
		t.Error("a new connection: the next poll should want counters")
	}
	// Its rate comes after two polls with counters, over their real time.
	withCounters(4.5, listener(1, "0.0.0.0", 80), inbound(tcpConn(2, 80, 50000, sockets.Traffic{BytesSent: 5000})), tcpConn(3, 40000, 443, sockets.Traffic{BytesReceived: 100}))
	p = withCounters(5.5, listener(1, "0.0.0.0", 80), inbound(tcpConn(2, 80, 50000, sockets.Traffic{BytesSent: 5000})), tcpConn(3, 40000, 443, sockets.Traffic{BytesReceived: 2100}))
	if f := p.Flows[2]; !f.Measured || !near(f.In, 2000) {
		t.Errorf("the new connection: %+v, want 2000 B/s in", f)
	}
	// A source that never has counters (/proc/net) gives no flows, and
	// one that stopped having them keeps its flows a while only.
	tr2 := NewTracker()
	if p := tr2.Observe(snapAt(at(0), listener(1, "0.0.0.0", 80))); p.Flows != nil {
		t.Error("flows without any counters")
	}
	if p := without(100, listener(1, "0.0.0.0", 80), inbound(tcpConn(2, 80, 50000, sockets.Traffic{}))); p.Flows != nil {
		t.Errorf("flows kept for a minute and a half without counters: %+v", p.Flows)
	}
}

// In one poll a connection closes and another inode now names a new
// connection (the kernel reuses inodes): the gone one is forgotten, the
// new one is kept and measured from the next poll, whatever order the
// tracker forgets in.
func TestAClosedAndAReusedInodeInOnePoll(t *testing.T) {
	tr := NewTracker()
	tr.Observe(snapAt(t0, tcpConn(1, 40000, 80, sockets.Traffic{}), tcpConn(2, 40001, 80, sockets.Traffic{}), tcpConn(3, 40002, 80, sockets.Traffic{})))
	tr.Observe(snapAt(t0.Add(time.Second), tcpConn(1, 40000, 80, sockets.Traffic{BytesSent: 10}), tcpConn(2, 40001, 80, sockets.Traffic{}),
		tcpConn(3, 40002, 80, sockets.Traffic{})))
	// 1 closed; 2 is now another connection (another port); 3 stays.
	tr.Observe(snapAt(t0.Add(2*time.Second), tcpConn(2, 40009, 80, sockets.Traffic{BytesSent: 5}), tcpConn(3, 40002, 80, sockets.Traffic{})))
	if len(tr.conns) != 2 || tr.conns[1] != nil || tr.conns[2] == nil || tr.conns[2].lport != 40009 || tr.histories != 0 {
		t.Fatalf("kept %d connections (inode 2's port %v), %d histories; want 2 and 3, with 2 the new one, and none",
			len(tr.conns), tr.conns[2] != nil && tr.conns[2].lport == 40009, tr.histories)
	}
	p := tr.Observe(snapAt(t0.Add(3*time.Second), tcpConn(2, 40009, 80, sockets.Traffic{BytesSent: 1005}), tcpConn(3, 40002, 80, sockets.Traffic{})))
	if f := p.Flows[0]; !f.Measured || !near(f.Out, 1000) {
		t.Errorf("the new connection on inode 2: %+v, want measured at 1000 B/s", f)
	}
}
