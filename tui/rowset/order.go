package rowset

import (
	"slices"
	"sort"
)

// The store keeps each tab's rows in order between polls, so that a key on
// the UI goroutine never waits for a sort of 200,000 rows (0.3 to 3 s at
// 100,000 connections, where the rows lie scattered in memory and every
// comparison follows pointers):
//
//   - a kept order is right as of a poll (its gen); a row the later polls
//     changed (its verdict, whether it is closed, and for an order that reads
//     the traffic its flow: Row.changed, Row.moved) is taken out and put back
//     by binary search, so catching up costs a pass over the order and
//     O(changes x log rows) comparisons, whatever the tab's size;
//   - an order never kept (the first poll, another sort column) of a large
//     tab is sorted off the UI goroutine (SortJob, on copies of the rows),
//     and until it is installed the tab shows its rows unsorted rather than
//     making the key wait.

// InlineSort is the most rows a tab may have for its first order to be
// sorted on the caller's goroutine: 30 to 60 ms on this project's machine.
// Above it a SortJob's copies of the rows (about 100 bytes a row) are worth
// their memory; at 10,000 connections (20,000 rows a tab) they raised the
// monitor's peak RSS by 4 MiB for a sort of 40 ms.
const InlineSort = 32768

// keptOrder is one tab's rows in one order.
type keptOrder struct {
	name    string // Query.Name of the order; "" for none
	rows    []*Row // sorted as of gen (rows since dropped or changed are still in it)
	gen     uint32 // the poll the order is right for
	drops   uint32 // the store's drops at gen: a row dropped since is still in rows
	pending string // the name a SortJob is sorting for, if any
}

// Sorted is a SortJob's result, for Install on the goroutine that owns the
// store.
type Sorted struct {
	gen  uint32
	tabs [TabCount]sortedTab
}

type sortedTab struct {
	name string
	rows []*Row
}

// kept is the tab's order for the query, caught up with the polls since it
// was right, or nil when it has none yet (and the tab is too large to sort
// now).
func (s *Store) kept(q Query) []*Row {
	o := &s.orders[q.Tab]
	if o.name != q.Name {
		if s.tabLen(q.Tab) > InlineSort {
			return nil
		}
		o.rows = s.sortRows(Query{Tab: q.Tab, Order: q.Order}, nil)
		o.name, o.gen, o.drops, o.pending = q.Name, s.gen, s.drops, ""
		return o.rows
	}
	s.catchUp(o, q)
	return o.rows
}

// tabLen is how many rows the tab holds, closed ones included.
func (s *Store) tabLen(t Tab) int {
	if t == All {
		return s.rows.n
	}
	return s.counts[t] + s.ghosts
}

// catchUp takes the rows changed since the order was right out of it and
// puts them back in their places; dropped rows go.
func (s *Store) catchUp(o *keptOrder, q Query) {
	if o.gen == s.gen && o.drops == s.drops {
		return
	}
	since := o.gen
	dirty := func(r *Row) bool { return r.changed > since || q.ReadsFlows && r.moved > since }
	// each calls add with every row dirty for the order and shown by its
	// tab, once.
	each := func(add func(*Row)) {
		s.mark++
		pick := func(r *Row) {
			if dirty(r) && !r.dropped && r.mark != s.mark && q.Tab.Shows(r) {
				r.mark = s.mark
				add(r)
			}
		}
		if since+1 >= s.touchedFrom {
			for _, r := range s.touched {
				pick(r)
			}
		} else {
			s.rows.each(pick)
		}
	}
	changed := 0
	each(func(*Row) { changed++ })
	if o.drops == s.drops && stillSorted(o.rows, changed, dirty, q) {
		o.gen = s.gen // the same array: nothing moved in it
		return
	}
	moved := make([]*Row, 0, changed)
	each(func(r *Row) { moved = append(moved, r) })
	// A new array, never the old one changed: Rows hands the order out
	// itself, and a View may still read the last one.
	keep := make([]*Row, 0, len(o.rows))
	for _, r := range o.rows {
		if !r.dropped && !dirty(r) {
			keep = append(keep, r)
		}
	}
	if len(moved) == 0 && len(keep) == len(o.rows) {
		keep = o.rows // nothing changed for this order: the same array
	}
	o.rows = insertSorted(keep, moved, q.compare)
	o.gen, o.drops = s.gen, s.drops
}

// stillSorted reports whether rows, an order right before the moved rows
// (those dirty, still shown: so many) changed, is still right: every one of them is
// in it and sorts between its neighbours there, and no row dirty in it
// left the tab. The usual poll of a busy machine changes rows that keep
// their places (a verdict made again, bytes moving in an order by name):
// the order then stays the same array, not two new ones of every row.
func stillSorted(rows []*Row, moved int, dirty func(*Row) bool, q Query) bool {
	in := 0
	for i, r := range rows {
		if !dirty(r) {
			continue
		}
		if r.dropped || !q.Tab.Shows(r) {
			return false
		}
		if i > 0 && q.compare(rows[i-1], r) > 0 || i+1 < len(rows) && q.compare(r, rows[i+1]) > 0 {
			return false
		}
		in++
	}
	return in == moved
}

// touch notes that a poll changed how a row may sort (stamp is its
// changed or moved). The list is bounded: past a quarter of the rows (a
// tab not looked at for long, or traffic everywhere) it starts again, and
// an order older than its start catches up with a pass over every row.
func (s *Store) touch(r *Row, stamp *uint32) {
	*stamp = s.gen
	if len(s.touched) >= max(s.rows.n/4, 1024) {
		clear(s.touched)
		s.touched, s.touchedFrom = s.touched[:0], s.gen+1 // this poll's earlier ones are gone too
	}
	s.touched = append(s.touched, r)
}

// insertSorted puts rows into sorted, which is in cmp's order, each where a
// binary search finds its place: len(rows) x log(len(sorted)) comparisons
// and one copy of sorted.
func insertSorted(sorted, rows []*Row, cmp func(a, b *Row) int) []*Row {
	if len(rows) == 0 {
		return sorted
	}
	slices.SortFunc(rows, cmp)
	out := make([]*Row, 0, len(sorted)+len(rows))
	from := 0
	for _, r := range rows {
		rest := sorted[from:]
		at := from + sort.Search(len(rest), func(i int) bool { return cmp(rest[i], r) > 0 })
		out = append(out, sorted[from:at]...)
		out = append(out, r)
		from = at
	}
	return append(out, sorted[from:]...)
}

// SortJob returns a function that sorts, on any goroutine, the tabs whose
// queries ask for an order the store has not kept and that are too large to
// sort inline (nil when there are none). It reads copies of the rows made
// now, so the store may change meanwhile; Install takes its result. Each
// order is asked for once: a second call while the first runs returns nil
// for it.
func (s *Store) SortJob(qs []Query) func() Sorted {
	var todo []Query
	for _, q := range qs {
		o := &s.orders[q.Tab]
		if q.Name == "" || o.name == q.Name || o.pending == q.Name || s.tabLen(q.Tab) <= InlineSort {
			continue
		}
		o.pending = q.Name
		todo = append(todo, q)
	}
	if len(todo) == 0 {
		return nil
	}
	// Copies of the rows: a comparison reads the verdict and the flow
	// (immutable) and the row's own fields, which Apply changes.
	real := make([]*Row, 0, s.rows.n)
	copies := make([]Row, 0, s.rows.n)
	s.rows.each(func(r *Row) {
		real = append(real, r)
		c := *r
		c.history = nil
		copies = append(copies, c)
	})
	gen := s.gen
	return func() Sorted {
		res := Sorted{gen: gen}
		for _, q := range todo {
			idx := make([]int32, 0, len(copies))
			for i := range copies {
				if q.Tab.Shows(&copies[i]) {
					idx = append(idx, int32(i))
				}
			}
			slices.SortFunc(idx, func(a, b int32) int { return q.compare(&copies[a], &copies[b]) })
			rows := make([]*Row, len(idx))
			for i, j := range idx {
				rows[i] = real[j]
			}
			res.tabs[q.Tab] = sortedTab{name: q.Name, rows: rows}
		}
		return res
	}
}

// Install keeps a SortJob's orders, each for its tab unless another order
// was asked for since; they catch up with the polls since the job's at the
// next Rows. It reports whether it kept any.
func (s *Store) Install(res Sorted) bool {
	any := false
	for t := range res.tabs {
		st, o := res.tabs[t], &s.orders[t]
		if st.name == "" || o.pending != st.name {
			continue
		}
		// A row dropped before the job's gen but after its copies is still
		// in rows: drops is the store's count at the copies, at most.
		*o = keptOrder{name: st.name, rows: st.rows, gen: res.gen, drops: 0}
		any = true
	}
	return any
}
