package rowset_test

import (
	"cmp"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/tui/rowset"
)

var (
	t0 = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	kb = assess.NewKnowledge("/nonexistent", "/nonexistent")

	nginx = &sockets.Process{PID: 812, Name: "nginx", User: "root", Exe: "/usr/sbin/nginx", Cmdline: "nginx: master"}
	drop  = &sockets.Process{PID: 4711, Name: "kworkerd", User: "www-data", UID: 33, Exe: "/tmp/.cache/kworkerd"}
)

func sock(local string, lport uint16, remote string, rport uint16, state string, inode uint64, owner *sockets.Process) sockets.Socket {
	s := sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr(local), LPort: lport,
		Remote: netip.MustParseAddr(remote), RPort: rport, State: state, Inode: inode, OwnerStatus: sockets.OwnerNone}
	if owner != nil {
		s.Owners, s.OwnerStatus = []*sockets.Process{owner}, sockets.OwnerKnown
	}
	return s
}

var (
	web      = sock("0.0.0.0", 80, "0.0.0.0", 0, "LISTEN", 1, nginx)
	backdoor = sock("0.0.0.0", 31337, "0.0.0.0", 0, "LISTEN", 2, drop)
	conn     = sock("10.0.0.5", 80, "10.0.0.9", 51234, "ESTABLISHED", 3, nginx)
	waiting  = sock("10.0.0.5", 41001, "10.0.0.1", 443, "TIME_WAIT", 0, nil)
)

// poll assesses sockets as one poll would, with an assessor kept between
// polls so that unchanged connections keep their verdicts.
type poller struct{ as *assess.Assessor }

func newPoller() *poller { return &poller{as: assess.NewAssessor(kb)} }

func (p *poller) verdicts(socks ...sockets.Socket) []*assess.Verdict {
	socks = slices.Clone(socks)
	sockets.SetDirections(socks)
	return p.as.Assess(&sockets.Snapshot{Sockets: socks}).Verdicts
}

func kinds(events []rowset.Event) map[rowset.EventKind][]uint16 {
	out := map[rowset.EventKind][]uint16{}
	for _, e := range events {
		out[e.Kind] = append(out[e.Kind], e.Row.Socket.LPort)
	}
	return out
}

func byPort(a, b *rowset.Row) int { return cmp.Compare(a.Socket.LPort, b.Socket.LPort) }

func ports(rows []*rowset.Row) []uint16 {
	var out []uint16
	for _, r := range rows {
		out = append(out, r.Socket.LPort)
	}
	return out
}

func TestTheFirstPollIsABaseline(t *testing.T) {
	s, p := rowset.NewStore(), newPoller()
	ch := s.Apply(p.verdicts(web, conn, waiting), t0)
	if len(ch.Events) != 0 || !ch.Reordered {
		t.Errorf("baseline: %d events, reordered %v; want none and a rebuild", len(ch.Events), ch.Reordered)
	}
	for _, r := range s.Rows(rowset.Query{Tab: rowset.All}, nil) {
		if r.Added(t0) {
			t.Errorf("the baseline marks %s new", r.Key())
		}
	}
	if got := s.Counts(); got != [rowset.TabCount]int{1, 1, 3} {
		t.Errorf("counts %v, want 1 listening, 1 established, 3 in all", got)
	}
}

func TestEventsAddUpdateDeleteAndExpiry(t *testing.T) {
	s, p := rowset.NewStore(), newPoller()
	s.Apply(p.verdicts(web, conn), t0)
	closing := conn
	closing.State = "CLOSE_WAIT"
	ch := s.Apply(p.verdicts(web, closing, backdoor), t0.Add(time.Second))
	got := kinds(ch.Events)
	// The connection changed state, and its listener lost an established
	// connection: both read differently.
	if !slices.Equal(got[rowset.Added], []uint16{31337}) || !slices.Equal(got[rowset.Updated], []uint16{80, 80}) || len(got[rowset.Deleted]) != 0 {
		t.Fatalf("events %v: want 31337 added, the connection on 80 and its listener updated", got)
	}
	if r := s.Get(backdoor.Key()); r == nil || !r.Added(t0.Add(time.Second)) || r.Added(t0.Add(time.Second+rowset.MarkFor)) {
		t.Error("a new row is not marked new for MarkFor, then unmarked")
	}
	if n := s.Counts()[rowset.Established]; n != 0 {
		t.Errorf("a CLOSE_WAIT connection is counted as established (%d)", n)
	}
	ch = s.Apply(p.verdicts(web), t0.Add(2*time.Second))
	if got := kinds(ch.Events); len(got[rowset.Deleted]) != 2 {
		t.Fatalf("events %v: want the connection and the backdoor closed", got)
	}
	gone := s.Get(backdoor.Key())
	if gone == nil || !gone.Removed() || !gone.ClosedAt().Equal(t0.Add(2*time.Second)) {
		t.Fatal("a closed socket's row is not kept marked closed")
	}
	if s.Counts()[rowset.Listening] != 1 {
		t.Errorf("a closed row is counted: %v", s.Counts())
	}
	if s.Expire(t0.Add(2*time.Second+rowset.MarkFor-time.Millisecond)) || s.Get(backdoor.Key()) == nil {
		t.Error("a closed row went before its mark was shown")
	}
	if !s.Expire(t0.Add(2*time.Second+rowset.MarkFor)) || s.Get(backdoor.Key()) != nil || s.Len() != 1 {
		t.Error("a closed row stayed after its mark")
	}
	// It comes back: a new row, marked new again.
	ch = s.Apply(p.verdicts(web, backdoor), t0.Add(time.Minute))
	if got := kinds(ch.Events); !slices.Equal(got[rowset.Added], []uint16{31337}) {
		t.Errorf("a returning socket: events %v", got)
	}
}

// A poll in which nothing reads differently asks for no rebuild; a change
// in a listener's connection count, a state change or a close does.
func TestQuietPollsAskForNoRebuild(t *testing.T) {
	s, p := rowset.NewStore(), newPoller()
	s.Apply(p.verdicts(web, conn, backdoor), t0)
	if ch := s.Apply(p.verdicts(web, conn, backdoor), t0.Add(time.Second)); ch.Reordered || len(ch.Events) != 0 {
		t.Fatalf("a quiet poll: reordered %v, %d events", ch.Reordered, len(ch.Events))
	}
	second := sock("10.0.0.5", 80, "10.0.0.8", 40000, "ESTABLISHED", 4, nginx)
	ch := s.Apply(p.verdicts(web, conn, backdoor, second), t0.Add(2*time.Second))
	if !ch.Reordered || s.Get(web.Key()).Conns != 2 {
		t.Errorf("a new connection: reordered %v, web shows %d connections", ch.Reordered, s.Get(web.Key()).Conns)
	}
	if got := kinds(ch.Events); !slices.Contains(got[rowset.Updated], 80) {
		t.Errorf("the listener whose count moved is not updated: %v", got)
	}
	if ch := s.Apply(p.verdicts(web, conn, backdoor, second), t0.Add(3*time.Second)); ch.Reordered {
		t.Error("the quiet poll after it asks for a rebuild")
	}
	if ch := s.Apply(p.verdicts(web, conn, backdoor), t0.Add(4*time.Second)); !ch.Reordered {
		t.Error("a close asks for no rebuild")
	}
}

func TestRowsOfATabUnderAFilterAndASort(t *testing.T) {
	s, p := rowset.NewStore(), newPoller()
	s.Apply(p.verdicts(backdoor, web, conn, waiting), t0)
	q := rowset.Query{Tab: rowset.Listening, Order: byPort}
	if got := ports(s.Rows(q, nil)); !slices.Equal(got, []uint16{80, 31337}) {
		t.Errorf("listening rows %v", got)
	}
	q.Order = func(a, b *rowset.Row) int { return -byPort(a, b) }
	if got := ports(s.Rows(q, nil)); !slices.Equal(got, []uint16{31337, 80}) {
		t.Errorf("reversed %v", got)
	}
	if got := ports(s.Rows(rowset.Query{Tab: rowset.All, Order: byPort}, nil)); len(got) != 4 {
		t.Errorf("all states %v", got)
	}
	// The filter reads what the row and its details say.
	for needle, want := range map[string][]uint16{
		"all interfaces": {80, 31337}, // the exposure in full
		"all":            {80, 31337},
		"/tmp":           {31337}, // the executable's path
		"world-writable": {31337}, // a finding's text
		"backdoor-port":  {31337}, // a finding's code
		"high":           {31337}, // the risk word
		"nginx: master":  {80},    // the command line
		"back-orifice":   {31337}, // the service
	} {
		got := ports(s.Rows(rowset.Query{Tab: rowset.Listening, Filter: needle, Order: byPort}, nil))
		if !slices.Equal(got, want) {
			t.Errorf("filter %q: %v, want %v", needle, got, want)
		}
	}
	if got := ports(s.Rows(rowset.Query{Tab: rowset.Established, Filter: "inbound"}, nil)); !slices.Equal(got, []uint16{80}) {
		t.Errorf("filter inbound: %v", got)
	}
}

// The selection follows its socket through sorts and polls, and falls to
// its neighbour when the socket is gone for good.
func TestViewSelectsByKey(t *testing.T) {
	s, p := rowset.NewStore(), newPoller()
	extra := sock("0.0.0.0", 8080, "0.0.0.0", 0, "LISTEN", 5, nginx)
	s.Apply(p.verdicts(web, backdoor, extra), t0)
	q := rowset.Query{Tab: rowset.Listening, Order: byPort}
	var v rowset.View
	v.Refresh(s, q)
	if !v.Select(extra.Key()) || v.Cursor() != 1 {
		t.Fatalf("select 8080: cursor %d", v.Cursor())
	}
	first := sock("0.0.0.0", 21, "0.0.0.0", 0, "LISTEN", 6, nginx)
	s.Apply(p.verdicts(first, web, backdoor, extra), t0.Add(time.Second))
	v.Refresh(s, q)
	if v.Current().Key() != extra.Key() || v.Cursor() != 2 {
		t.Errorf("after a row sorted in before it: cursor %d on %v", v.Cursor(), v.Current().Key())
	}
	s.Apply(p.verdicts(first, web, backdoor), t0.Add(2*time.Second))
	s.Expire(t0.Add(time.Hour))
	v.Refresh(s, q)
	if v.Current() == nil || v.Current().Socket.LPort != 31337 {
		t.Errorf("the selection did not fall to the neighbour: %v", ports(v.Rows()))
	}
	v.Move(-10)
	if v.Cursor() != 0 || v.Selected() != first.Key() {
		t.Errorf("move past the top: cursor %d", v.Cursor())
	}
}

// A copy of a View is its own: moving or refreshing one never changes the
// other's rows or selection.
func TestACopyOfAViewIsItsOwn(t *testing.T) {
	s, p := rowset.NewStore(), newPoller()
	s.Apply(p.verdicts(web, backdoor, conn), t0)
	var v rowset.View
	v.Refresh(s, rowset.Query{Tab: rowset.Listening, Order: byPort})
	before := ports(v.Rows())
	c := v
	c.Refresh(s, rowset.Query{Tab: rowset.Established, Order: byPort})
	c.Move(1)
	if got := ports(v.Rows()); !slices.Equal(got, before) || v.Cursor() != 0 {
		t.Errorf("the original changed with its copy: %v cursor %d", got, v.Cursor())
	}
}

// Sockets usually come in the same order poll after poll, and the store
// looks there first; in any other order they must find the same rows.
func TestAnyOrderFindsTheSameRows(t *testing.T) {
	s, p := rowset.NewStore(), newPoller()
	socks := []sockets.Socket{web, backdoor, conn, waiting}
	s.Apply(p.verdicts(socks...), t0)
	before := map[sockets.SocketKey]*rowset.Row{}
	for _, r := range s.Rows(rowset.Query{Tab: rowset.All}, nil) {
		before[r.Key()] = r
	}
	for i, order := range [][]sockets.Socket{{waiting, conn, backdoor, web}, {conn, web, waiting, backdoor}, socks} {
		ch := s.Apply(p.verdicts(order...), t0.Add(time.Duration(i+1)*time.Second))
		if len(ch.Events) != 0 || s.Len() != 4 {
			t.Fatalf("order %d: %d events, %d rows", i, len(ch.Events), s.Len())
		}
		for k, r := range before {
			if s.Get(k) != r {
				t.Errorf("order %d: %v has another row", i, k)
			}
		}
	}
}

// A connection's history is the states it went through, with when each was
// first seen: its first state at its first sighting (held without a slice
// of its own while it is the only one), each change, and its end; a
// listener has none.
func TestHistoryOfAConnection(t *testing.T) {
	p, s := newPoller(), rowset.NewStore()
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	closing := conn
	closing.State = "CLOSE_WAIT"
	s.Apply(p.verdicts(web), at(0))
	s.Apply(p.verdicts(web, conn), at(1))
	for i := 2; i < 5; i++ {
		s.Apply(p.verdicts(web, conn), at(i))
	}
	row := s.Get(conn.Key())
	if h := row.History(); len(h) != 1 || h[0].State != "ESTABLISHED" || !h[0].At.Equal(at(1)) || !row.InStateSince().Equal(at(1)) {
		t.Fatalf("a connection established since its first sighting: history %v, in its state since %v", h, row.InStateSince())
	}
	s.Apply(p.verdicts(web, closing), at(5))
	s.Apply(p.verdicts(web, closing), at(6))
	s.Apply(p.verdicts(web), at(7))
	want := []rowset.Transition{{State: "ESTABLISHED", At: at(1)}, {State: "CLOSE_WAIT", At: at(5)}, {State: rowset.Gone, At: at(7)}}
	if h := row.History(); !slices.EqualFunc(h, want, func(a, b rowset.Transition) bool { return a.State == b.State && a.At.Equal(b.At) }) {
		t.Errorf("history %v, want %v", h, want)
	}
	if !row.InStateSince().Equal(at(7)) {
		t.Errorf("in its last state since %v, want %v", row.InStateSince(), at(7))
	}
	if h := s.Get(web.Key()).History(); len(h) != 0 {
		t.Errorf("a listener has a history: %v", h)
	}
}

// A quiet poll (the same verdicts and flows as the last) allocates nothing
// in the rows, whatever their number (issue 24): each row is found where
// the last poll had it, and the order's array is the one before.
func TestQuietApplyAllocatesNothing(t *testing.T) {
	p, s := newPoller(), rowset.NewStore()
	socks := []sockets.Socket{web}
	for i := range 20000 {
		socks = append(socks, sock("10.0.0.5", 80, "10.1.0.1", uint16(1024+i%60000), "ESTABLISHED", uint64(1000+i), nginx))
	}
	vs := p.verdicts(socks...)
	now := t0
	s.Apply(vs, now)
	s.Apply(vs, now.Add(time.Second))
	allocs := testing.AllocsPerRun(5, func() {
		now = now.Add(time.Second)
		s.Apply(vs, now)
	})
	if allocs != 0 {
		t.Errorf("a quiet poll of %d rows allocates %.0f times", s.Len(), allocs)
	}
}

// TestRowIsSmall: a row is 80 bytes at most, the allocator's 80-byte
// class: 20,000 of them at 10,000 connections, 200,000 on a busy server.
// With its history's slice inline it was 88 bytes (the 96-byte class).
func TestRowIsSmall(t *testing.T) {
	if size := unsafe.Sizeof(rowset.Row{}); size > 80 {
		t.Errorf("a row is %d bytes, want at most 80", size)
	}
}

// TestFirstPollsAllocateTheOrderOnce: the first polls' orders (the rows in
// the order the poll listed them, two arrays used in turn) are each made
// once at their size, not grown by doubling: at 20,000 rows the second
// poll allocated 500 KB for its order, and both kept room for 32,768.
func TestFirstPollsAllocateTheOrderOnce(t *testing.T) {
	p, s := newPoller(), rowset.NewStore()
	socks := []sockets.Socket{web}
	for i := range 20000 {
		socks = append(socks, sock("10.0.0.5", 80, "10.1.0.1", uint16(1024+i%60000), "ESTABLISHED", uint64(1000+i), nginx))
	}
	vs := p.verdicts(socks...)
	s.Apply(vs, t0)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s.Apply(vs, t0.Add(time.Second))
	runtime.ReadMemStats(&after)
	// One order of 20,001 rows and a sixteenth: 170 KB.
	if got, want := after.TotalAlloc-before.TotalAlloc, uint64(len(vs))*8*17/16+16<<10; got > want {
		t.Errorf("the second poll of %d rows allocated %d bytes, want at most %d", len(vs), got, want)
	}
}
