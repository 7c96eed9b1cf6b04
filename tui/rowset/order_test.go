package rowset_test

import (
	"cmp"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/traffic"
	"github.com/portwatch/portwatch/tui/rowset"
)

// connections is n established connections from distinct remote ends, the
// ones from first on taking other remote ports (so they are other sockets).
func connections(n, first int) []sockets.Socket {
	out := make([]sockets.Socket, 0, n+1)
	out = append(out, web)
	for i := range n {
		rport := uint16(10000 + i%50000)
		if i >= first {
			rport += 5
		}
		remote := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		out = append(out, sock("10.0.0.5", 80, remote.String(), rport, "ESTABLISHED", uint64(100+i), nginx))
	}
	return out
}

// countingQuery is the Established tab by remote end, counting comparisons.
func countingQuery(n *atomic.Int64) rowset.Query {
	return rowset.Query{Tab: rowset.Established, Name: "remote", Order: func(a, b *rowset.Row) int {
		n.Add(1)
		if c := a.Socket.Remote.Compare(b.Socket.Remote); c != 0 {
			return c
		}
		return cmp.Compare(a.Socket.RPort, b.Socket.RPort)
	}}
}

// sameRows reports how got differs from a fresh sort of the tab's rows.
func sameRows(s *rowset.Store, q rowset.Query, got []*rowset.Row) error {
	plain := q
	plain.Name = ""
	want := s.Rows(plain, nil)
	if !q.IsSorted(got) {
		return fmt.Errorf("the rows are not in order")
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("%d rows, want the %d of a fresh sort", len(got), len(want))
	}
	return nil
}

// A large tab's order is sorted once, off the caller's goroutine, and then
// kept: asking for its rows again after a poll costs comparisons for the
// rows that changed, not a sort of the tab. Before the kept orders, every
// tab switch sorted the tab's rows (34,768 rows: over 300,000 comparisons
// from scratch, at least 34,768 from the last order); a key waited for it.
func TestAKeptOrderCatchesUpInChanges(t *testing.T) {
	const n = rowset.InlineSort + 2000
	s, p := rowset.NewStore(), newPoller()
	s.Apply(p.verdicts(connections(n, n)...), t0)
	var compared atomic.Int64
	q := countingQuery(&compared)

	// The first ask of a large tab: its rows, unsorted, and no sort now.
	if rows := s.Rows(q, nil); len(rows) != n || !s.Pending(q) || compared.Load() != 0 {
		t.Fatalf("first ask: %d rows, pending %v, %d comparisons; want %d rows, pending, none", len(rows), s.Pending(q), compared.Load(), n)
	}
	job := s.SortJob([]rowset.Query{q})
	if job == nil {
		t.Fatal("no sort job for a large tab without an order")
	}
	if s.SortJob([]rowset.Query{q}) != nil {
		t.Error("a second job for an order already being sorted")
	}
	done := make(chan rowset.Sorted)
	go func() { done <- job() }() // on another goroutine, as the monitor's command runs
	res := <-done

	// A poll lands while the job ran: 10 connections close, 10 come.
	s.Apply(p.verdicts(connections(n, n-10)...), t0.Add(time.Second))
	if !s.Install(res) {
		t.Fatal("the job's order was not installed")
	}
	compared.Store(0)
	rows := s.Rows(q, nil)
	got := compared.Load()
	if err := sameRows(s, q, rows); err != nil {
		t.Fatalf("after the install: %v", err)
	}
	if got > 1000 {
		t.Errorf("catching up with 20 changed rows of %d took %d comparisons; want O(changes x log rows), under 1,000", n, got)
	}

	// A quiet poll: no comparison at all. Then one more changed row.
	s.Apply(p.verdicts(connections(n, n-10)...), t0.Add(2*time.Second))
	compared.Store(0)
	if rows := s.Rows(q, rows); compared.Load() != 0 || len(rows) != n+10 {
		t.Errorf("a quiet poll: %d comparisons, %d rows; want none, %d", compared.Load(), len(rows), n+10)
	}
	s.Apply(p.verdicts(connections(n, n-11)...), t0.Add(3*time.Second))
	compared.Store(0)
	rows = s.Rows(q, rows)
	got = compared.Load()
	if err := sameRows(s, q, rows); err != nil {
		t.Errorf("after one change: %v", err)
	}
	if got > 200 {
		t.Errorf("one changed row took %d comparisons", got)
	}

	// Closed rows expire: they leave the kept order.
	s.Expire(t0.Add(time.Minute))
	if err := sameRows(s, q, s.Rows(q, nil)); err != nil {
		t.Errorf("after the expiry: %v", err)
	}
}

// A job's result for an order no longer asked for is not kept: the user
// sorted by another column while it ran.
func TestAStaleSortJobIsDropped(t *testing.T) {
	s, p := rowset.NewStore(), newPoller()
	s.Apply(p.verdicts(connections(rowset.InlineSort+10, 1<<30)...), t0)
	var compared atomic.Int64
	q := countingQuery(&compared)
	old := s.SortJob([]rowset.Query{q})
	q.Name, q.Order = "remote desc", func(a, b *rowset.Row) int { return -a.Socket.Remote.Compare(b.Socket.Remote) }
	fresh := s.SortJob([]rowset.Query{q})
	if old == nil || fresh == nil {
		t.Fatal("no job")
	}
	if s.Install(old()) {
		t.Error("the old order was installed over the one asked for since")
	}
	if !s.Install(fresh()) || s.Pending(q) {
		t.Fatal("the order asked for was not installed")
	}
	if err := sameRows(s, q, s.Rows(q, nil)); err != nil {
		t.Error(err)
	}
}

// An order that reads the traffic moves a row whose flow changed; a small
// tab's first order is sorted at once, with no job.
func TestAKeptOrderByRateFollowsTheFlows(t *testing.T) {
	s, p := rowset.NewStore(), newPoller()
	socks := connections(50, 1<<30)
	flows := make([]*traffic.Flow, len(socks))
	for i := range flows {
		flows[i] = &traffic.Flow{Measured: true, In: float64(i)}
	}
	s.ApplyFlows(p.verdicts(socks...), flows, t0)
	q := rowset.Query{Tab: rowset.Established, Name: "rate", ReadsFlows: true, Order: func(a, b *rowset.Row) int {
		return cmp.Compare(b.Flow().In, a.Flow().In)
	}}
	if s.SortJob([]rowset.Query{q}) != nil || s.Pending(q) {
		t.Error("a small tab's order went to a job")
	}
	if err := sameRows(s, q, s.Rows(q, nil)); err != nil {
		t.Fatal(err)
	}
	flows = slices.Clone(flows)
	flows[3] = &traffic.Flow{Measured: true, In: 1e9}
	flows[40] = &traffic.Flow{Measured: true, In: 0.5}
	s.ApplyFlows(p.verdicts(socks...), flows, t0.Add(time.Second))
	rows := s.Rows(q, nil)
	if err := sameRows(s, q, rows); err != nil {
		t.Fatal(err)
	}
	if rows[0].Flow().In != 1e9 {
		t.Errorf("the fastest row is %v", rows[0].Flow().In)
	}
}

// A View counts its closed rows at the refresh, and the count follows the
// polls and the expiry (the status line reads it every frame).
func TestAViewCountsItsClosedRows(t *testing.T) {
	s, p := rowset.NewStore(), newPoller()
	s.Apply(p.verdicts(web, backdoor, conn), t0)
	q := rowset.Query{Tab: rowset.All, Name: "port", Order: byPort}
	var v rowset.View
	v.Refresh(s, q)
	if v.Closed() != 0 {
		t.Fatalf("%d closed of a first poll", v.Closed())
	}
	s.Apply(p.verdicts(web), t0.Add(time.Second))
	v.Refresh(s, q)
	if v.Len() != 3 || v.Closed() != 2 {
		t.Errorf("%d rows, %d closed; want 3 and 2", v.Len(), v.Closed())
	}
	s.Expire(t0.Add(time.Minute))
	v.Refresh(s, q)
	if v.Len() != 1 || v.Closed() != 0 {
		t.Errorf("after the expiry %d rows, %d closed; want 1 and 0", v.Len(), v.Closed())
	}
}

// TestRowsChangedInPlaceKeepTheOrder: a poll whose changed rows still sort
// where they stood (every verdict made again, as the assessor does for a
// published port each poll) leaves the kept order as it is, the same
// array, not two new ones of every row (320 KB at 20,000 rows, every
// poll); a changed row that sorts elsewhere still moves.
func TestRowsChangedInPlaceKeepTheOrder(t *testing.T) {
	p, s := newPoller(), rowset.NewStore()
	var socks []sockets.Socket
	for i := range 20000 {
		socks = append(socks, sock("10.0.0.5", uint16(1024+i), "10.1.0.1", 80, "ESTABLISHED", uint64(1000+i), nil))
	}
	q := rowset.Query{Tab: rowset.All, Name: "port", Order: byPort}
	s.Apply(p.verdicts(socks...), t0)
	first := s.Rows(q, nil)
	s.Apply(newPoller().verdicts(socks...), t0.Add(time.Second)) // every verdict a new one
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rows := s.Rows(q, nil)
	runtime.ReadMemStats(&after)
	if &rows[0] != &first[0] {
		t.Error("rows that kept their places made a new order")
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<10 {
		t.Errorf("the order after a poll that changed rows in their places allocated %d KB", got>>10)
	}
	// One row now sorts last: it moves.
	socks[0].LPort = 60000
	s.Apply(p.verdicts(socks...), t0.Add(2*time.Second))
	rows = s.Rows(q, nil)
	if !slices.IsSortedFunc(rows, byPort) || rows[len(rows)-1].Socket.LPort != 60000 {
		t.Errorf("the row that sorts last is at %d", slices.IndexFunc(rows, func(r *rowset.Row) bool { return r.Socket.LPort == 60000 }))
	}
}
