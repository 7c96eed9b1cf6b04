package events

import (
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
)

var (
	t0    = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	kb    = assess.NewKnowledge("/nonexistent", "/nonexistent")
	sshd  = &sockets.Process{PID: 10, Name: "sshd", Exe: "/usr/sbin/sshd", User: "root"}
	nc    = &sockets.Process{PID: 66, Name: "nc", Exe: "/usr/bin/nc", User: "www-data", UID: 33}
	other = &sockets.Process{PID: 77, Name: "python3", Exe: "/usr/bin/python3", User: "alice", UID: 1000}
)

func lsock(port uint16, inode uint64, owner *sockets.Process) sockets.Socket {
	return sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.IPv4Unspecified(), Remote: netip.IPv4Unspecified(), LPort: port,
		State: sockets.StateListen, Inode: inode, Netns: sockets.HostNetns, Owners: []*sockets.Process{owner}, OwnerStatus: sockets.OwnerKnown}
}

func kinds(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Kind)+" "+strings.TrimPrefix(e.Where(), "tcp "))
	}
	slices.Sort(out)
	return out
}

func observe(tr *Tracker, b *baseline.Baseline, at time.Time, socks ...sockets.Socket) []Event {
	sockets.SetDirections(socks)
	return tr.Observe(assess.AssessWith(&sockets.Snapshot{Sockets: socks}, kb, assess.Context{Baseline: b}), at)
}

func TestEventsOfListeners(t *testing.T) {
	tr := NewTracker()
	if evs := observe(tr, nil, t0, lsock(22, 1, sshd)); len(evs) != 0 {
		t.Fatalf("the first look reports %v", kinds(evs))
	}
	if evs := observe(tr, nil, t0.Add(time.Second), lsock(22, 1, sshd)); len(evs) != 0 {
		t.Fatalf("a quiet poll reports %v", kinds(evs))
	}
	evs := observe(tr, nil, t0.Add(2*time.Second), lsock(22, 1, sshd), lsock(4444, 2, nc))
	if got := kinds(evs); !slices.Contains(got, "listener-opened 0.0.0.0:4444") {
		t.Fatalf("a new listener: %v", got)
	}
	opened := evs[slices.IndexFunc(evs, func(e Event) bool { return e.Kind == Opened })]
	if opened.PID != 66 || opened.Exe != "/usr/bin/nc" || opened.User != "www-data" || !slices.Contains(opened.Codes, assess.CodeBackdoorTool) || opened.Risk != assess.RiskHigh {
		t.Errorf("the opened event: %+v", opened)
	}
	// sshd restarts (a new socket, a new pid, the same program): no event;
	// a python3 takes 22 over: owner changed.
	restarted := *sshd
	restarted.PID = 11
	if evs := observe(tr, nil, t0.Add(3*time.Second), lsock(22, 3, &restarted), lsock(4444, 2, nc)); len(evs) != 0 {
		t.Errorf("a restart reports %v", kinds(evs))
	}
	evs = observe(tr, nil, t0.Add(4*time.Second), lsock(22, 4, other))
	got := kinds(evs)
	if !slices.Contains(got, "owner-changed 0.0.0.0:22") || !slices.Contains(got, "listener-closed 0.0.0.0:4444") {
		t.Errorf("events %v", got)
	}
	// The disguise is a finding that appeared.
	if !slices.ContainsFunc(evs, func(e Event) bool { return e.Kind == Finding && slices.Contains(e.Codes, assess.CodeServiceMismatch) }) {
		t.Errorf("no finding event for the mismatch: %v", got)
	}
}

func TestEventsOfTheBaseline(t *testing.T) {
	b, _ := baseline.Parse(strings.NewReader("host tcp all 22 /usr/sbin/sshd root\nhost tcp all 80 nginx *\n"), "b")
	tr := NewTracker()
	// At start the baseline's view is reported: 4444 unexpected, 80 missing.
	evs := observe(tr, b, t0, lsock(22, 1, sshd), lsock(4444, 2, nc))
	if got := kinds(evs); !slices.Equal(got, []string{"missing-listener 0.0.0.0:80", "unexpected-listener 0.0.0.0:4444"}) {
		t.Fatalf("start: %v", got)
	}
	if evs := observe(tr, b, t0.Add(time.Second), lsock(22, 1, sshd), lsock(4444, 2, nc)); len(evs) != 0 {
		t.Errorf("the same again reports %v", kinds(evs))
	}
	evs = observe(tr, b, t0.Add(2*time.Second), lsock(22, 1, other), lsock(4444, 2, nc))
	if got := kinds(evs); !slices.Contains(got, "changed-listener 0.0.0.0:22") {
		t.Errorf("python3 on 22: %v", got)
	}
}

// A connection's finding is reported once, whether polls come quiet (the
// same verdicts) or not, and again after the socket went and came back.
func TestConnectionFindingsOnce(t *testing.T) {
	tr := NewTracker()
	lst := lsock(80, 1, sshd)
	conn := func(port uint16, inode uint64) sockets.Socket {
		return sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr("10.0.0.1"), LPort: 80,
			Remote: netip.MustParseAddr("10.9.9.9"), RPort: port, State: sockets.StateEstablished, Inode: inode,
			Netns: sockets.HostNetns, Owners: []*sockets.Process{nc}, OwnerStatus: sockets.OwnerKnown}
	}
	as := assess.NewAssessor(kb)
	poll := func(socks ...sockets.Socket) []Event {
		sockets.SetDirections(socks)
		return tr.Observe(as.AssessWith(&sockets.Snapshot{Sockets: socks, Taken: t0}, assess.Context{}), t0)
	}
	count := func(evs []Event) int {
		n := 0
		for _, e := range evs {
			if e.Kind == Finding && e.Address == "10.0.0.1" && slices.Contains(e.Codes, assess.CodeFlood) { // the connections' flood, not the listener's
				n++
			}
		}
		return n
	}
	poll(lst)
	// A netcat holding connections: each is a finding of its own (a netcat
	// on a connection), reported once; the flood is one event for the
	// address once twenty arrive.
	var flood []sockets.Socket
	for i := range assess.FloodThreshold {
		flood = append(flood, conn(uint16(40000+i), uint64(100+i)))
	}
	if n := count(poll(append([]sockets.Socket{lst}, flood...)...)); n != 1 {
		t.Fatalf("a flood of %d connections: %d finding events, want 1", assess.FloodThreshold, n)
	}
	for i := 0; i < 2*rebuildEvery; i++ {
		if n := count(poll(append([]sockets.Socket{lst}, flood...)...)); n != 0 {
			t.Fatalf("poll %d of the same flood: %d finding events", i, n)
		}
	}
}

// A connection's health finding (a send queue stuck) is an event when it
// appears, although it is LOW: a stalled connection is what watch's log
// must say; not again while it lasts.
func TestHealthFindingIsAnEvent(t *testing.T) {
	tr := NewTracker()
	as := assess.NewAssessor(kb)
	c := sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr("10.0.0.1"), LPort: 40001,
		Remote: netip.MustParseAddr("10.9.9.9"), RPort: 5432, State: sockets.StateEstablished, Inode: 7,
		Netns: sockets.HostNetns, Owners: []*sockets.Process{nc}, OwnerStatus: sockets.OwnerKnown}
	poll := func(h sockets.Health) []Event {
		socks := []sockets.Socket{c}
		sockets.SetDirections(socks)
		return tr.Observe(as.AssessWith(&sockets.Snapshot{Sockets: socks, Taken: t0}, assess.Context{Health: []sockets.Health{h}}), t0)
	}
	stuck := func(evs []Event) int {
		n := 0
		for _, e := range evs {
			if e.Kind == Finding && slices.Contains(e.Codes, assess.CodeSendQueueStuck) {
				n++
			}
		}
		return n
	}
	poll(0)
	if n := stuck(poll(sockets.HealthSendStuck)); n != 1 {
		t.Fatalf("a send queue that got stuck: %d events, want 1", n)
	}
	if n := stuck(poll(sockets.HealthSendStuck)); n != 0 {
		t.Fatalf("the same stuck queue a poll later: %d events, want 0", n)
	}
}

// A connection's finding is reported once, whether the connection is known
// by its inode or, without one (judged afresh every poll), by its key, and
// over the rebuilds that forget what has gone; a new connection (a new
// inode) with the same finding is reported again.
func TestConnectionFindingOncePerSocket(t *testing.T) {
	tr := NewTracker()
	as := assess.NewAssessor(kb)
	conn := func(rport uint16, inode uint64) sockets.Socket {
		return sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr("10.0.0.1"), LPort: 40000,
			Remote: netip.MustParseAddr("10.9.9.9"), RPort: rport, State: sockets.StateEstablished, Inode: inode,
			Netns: sockets.HostNetns, Owners: []*sockets.Process{nc}, OwnerStatus: sockets.OwnerKnown}
	}
	at := t0
	poll := func(socks ...sockets.Socket) (n int) {
		sockets.SetDirections(socks)
		at = at.Add(time.Second)
		for _, e := range tr.Observe(as.AssessWith(&sockets.Snapshot{Sockets: socks, Taken: at}, assess.Context{}), at) {
			if e.Kind == Finding {
				n++
			}
		}
		return n
	}
	poll()
	first := poll(conn(4444, 500), conn(5555, 0))
	if first < 2 {
		t.Fatalf("two netcat connections: %d finding events, want one or more each", first)
	}
	for i := range 2 * rebuildEvery {
		if n := poll(conn(4444, 500), conn(5555, 0)); n != 0 {
			t.Fatalf("poll %d of the same connections: %d finding events", i, n)
		}
	}
	if n := poll(conn(4444, 501), conn(5555, 0)); n == 0 || n >= first {
		t.Errorf("a new connection (inode 501) beside the one without an inode: %d finding events, want its own (fewer than %d)", n, first)
	}
}

// ncConns is n outbound connections of a netcat, each with a finding of
// its own (a netcat on a connection), judged once.
func ncConns(n int) *assess.Assessment {
	socks := make([]sockets.Socket, n)
	for i := range socks {
		socks[i] = sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr("10.0.0.1"), LPort: uint16(20000 + i%40000),
			Remote: netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), RPort: 4444, State: sockets.StateEstablished, Inode: uint64(1000 + i),
			Netns: sockets.HostNetns, Owners: []*sockets.Process{nc}, OwnerStatus: sockets.OwnerKnown}
	}
	sockets.SetDirections(socks)
	return assess.NewAssessor(kb).AssessWith(&sockets.Snapshot{Sockets: socks, Taken: t0}, assess.Context{})
}

// rebuildBytes is what rebuildEvery polls of the same n connections
// allocate in the tracker, a rebuild among them.
func rebuildBytes(t *testing.T, n int) uint64 {
	tr := NewTracker()
	a := ncConns(n)
	tr.Observe(a, t0)
	tr.Observe(a, t0)
	if len(tr.conns.byInode) < n {
		t.Fatalf("%d connections of a netcat: %d findings remembered", n, len(tr.conns.byInode))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range rebuildEvery {
		tr.Observe(a, t0)
	}
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A rebuild, which forgets the findings of connections that have gone,
// makes no new set: its cost does not grow with the connections (issue 24:
// at 20,000 connections a set of half a megabyte every 30 polls).
func TestRebuildAllocatesNoSet(t *testing.T) {
	small, large := rebuildBytes(t, 2000), rebuildBytes(t, 20000)
	t.Logf("%d polls, a rebuild among them: %d bytes at 2,000 connections with findings, %d at 20,000", rebuildEvery, small, large)
	if large > small+8192 {
		t.Errorf("the rebuild allocates %d bytes at 20,000 connections against %d at 2,000: it grows with them", large, small)
	}
}

// A rebuild forgets a connection that has gone: the same inode, used again
// by a new connection after a rebuild, has its finding reported again.
func TestRebuildForgetsWhatWent(t *testing.T) {
	tr := NewTracker()
	as := assess.NewAssessor(kb)
	c := sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr("10.0.0.1"), LPort: 40000,
		Remote: netip.MustParseAddr("10.9.9.9"), RPort: 4444, State: sockets.StateEstablished, Inode: 500,
		Netns: sockets.HostNetns, Owners: []*sockets.Process{nc}, OwnerStatus: sockets.OwnerKnown}
	at := t0
	poll := func(socks ...sockets.Socket) (n int) {
		sockets.SetDirections(socks)
		at = at.Add(time.Second)
		for _, e := range tr.Observe(as.AssessWith(&sockets.Snapshot{Sockets: socks, Taken: at}, assess.Context{}), at) {
			if e.Kind == Finding {
				n++
			}
		}
		return n
	}
	poll()
	if n := poll(c); n == 0 {
		t.Fatal("a netcat's connection: no finding event")
	}
	for range rebuildEvery + 1 {
		poll()
	}
	if got := len(tr.conns.byInode); got != 0 {
		t.Errorf("a rebuild after the only connection went: %d of its findings remembered", got)
	}
	if n := poll(c); n == 0 {
		t.Error("a new connection on the inode of one gone a rebuild ago: no finding event, the gone one was not forgotten")
	}
}

// The tracker reads the last assessment's verdicts where they are, never
// a copy of them: at 20,000 connections without findings it holds next
// to nothing (issue 24: a copy of the array, 160 KB).
func TestTrackerHoldsNoCopyOfTheVerdicts(t *testing.T) {
	const n = 20000
	socks := make([]sockets.Socket, n)
	for i := range socks {
		socks[i] = sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr("10.0.0.1"), LPort: uint16(20000 + i%40000),
			Remote: netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), RPort: 443, State: sockets.StateEstablished, Inode: uint64(1000 + i),
			Netns: sockets.HostNetns, Owners: []*sockets.Process{sshd}, OwnerStatus: sockets.OwnerKnown}
	}
	sockets.SetDirections(socks)
	a := assess.NewAssessor(kb).AssessWith(&sockets.Snapshot{Sockets: socks, Taken: t0}, assess.Context{})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr := NewTracker()
	tr.Observe(a, t0)
	tr.Observe(a, t0)
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("a tracker of %d connections without findings holds %d bytes", n, held)
	if held > 32<<10 {
		t.Errorf("a tracker of %d connections without findings holds %d bytes, want at most 32 KB", n, held)
	}
	runtime.KeepAlive(tr)
	runtime.KeepAlive(a)
}

// A connection's findings reported are one entry, whatever their number:
// 20,000 netcat connections of two findings each hold under 72 bytes each
// in the tracker (issue 24: an entry a finding, 87 bytes a connection).
func TestFindingsOfAConnectionAreOneEntry(t *testing.T) {
	const n = 20000
	a := ncConns(n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr := NewTracker()
	tr.Observe(a, t0)
	tr.Observe(a, t0)
	runtime.GC()
	runtime.ReadMemStats(&after)
	perConn := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	reported := 0
	for _, e := range tr.conns.byInode {
		for c := e.codes; c != 0; c &= c - 1 {
			reported++
		}
	}
	t.Logf("%d netcat connections, %d findings reported: %d bytes held a connection", n, reported, perConn)
	if reported < 2*n {
		t.Fatalf("%d connections of a netcat: %d findings remembered, want two each", n, reported)
	}
	if perConn > 72 {
		t.Errorf("the tracker holds %d bytes a connection, want at most 72", perConn)
	}
	runtime.KeepAlive(tr)
	runtime.KeepAlive(a)
}

// An unchanged connection's verdict (the very verdict of the last poll, at
// the same place) is passed by without being read between rebuilds: here
// one is changed behind the tracker's back into a listener, which a read
// would report as opened.
func TestUnchangedConnectionNotRead(t *testing.T) {
	tr := NewTracker()
	a := ncConns(3)
	tr.Observe(a, t0)
	tr.Observe(a, t0)
	a.Verdicts[1].Socket.State = sockets.StateListen // the same pointer, read or not
	if evs := tr.Observe(a, t0); len(evs) != 0 {
		t.Errorf("a poll with the same verdicts read one again: %v", kinds(evs))
	}
}
