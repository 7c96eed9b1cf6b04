package rowset

import (
	"slices"

	"github.com/portwatch/portwatch/sockets"
)

// Query asks for the rows of a tab that hold a filter, in an order.
type Query struct {
	Tab Tab
	// Filter is lower-case text a row must hold (Row.Matches); "" for all.
	Filter string
	// Order compares two rows; ties are broken by the sockets' keys, so
	// equal rows keep their place from poll to poll.
	Order func(a, b *Row) int
	// Where, when set, keeps only the rows it accepts (a listener's
	// connections).
	Where func(*Row) bool
	// Name, when set, names Order (with the tab): the store keeps the tab's
	// rows in it between polls, so that asking again costs O(changes), and
	// a new order of a large tab is sorted off the caller's goroutine
	// (SortJob). Two queries of one tab with one Name have one Order.
	Name string
	// ReadsFlows: Order reads the rows' traffic, so a row whose flow
	// changed may move.
	ReadsFlows bool
}

// Rows returns the rows the query asks for; the slice must not be changed.
// A named query reads the tab's kept order (order.go), which it hands out
// as it is when there is no filter and no Where (200,000 rows are not
// copied for a key); while a large tab's first order is still being sorted
// (SortJob), its rows come unsorted and Pending says so. An unnamed one is
// sorted now, in a new slice: prev, the rows of the last call, lays them
// out first, so the sort meets them nearly in order.
func (s *Store) Rows(q Query, prev []*Row) []*Row {
	if q.Name == "" {
		return s.sortRows(q, prev)
	}
	kept := s.kept(q)
	if kept == nil {
		return s.pick(q, prev)
	}
	if q.Filter == "" && q.Where == nil {
		return kept
	}
	out := make([]*Row, 0, len(kept))
	for _, r := range kept {
		if q.Where == nil || q.Where(r) {
			if q.Filter == "" || r.Matches(q.Filter) {
				out = append(out, r)
			}
		}
	}
	return out
}

// Pending reports whether the query's rows come unsorted: its order is
// being sorted off the UI goroutine.
func (s *Store) Pending(q Query) bool {
	return q.Name != "" && s.orders[q.Tab].name != q.Name && s.tabLen(q.Tab) > InlineSort
}

// sortRows is the query's rows, sorted now.
func (s *Store) sortRows(q Query, prev []*Row) []*Row {
	out := s.pick(q, prev)
	slices.SortFunc(out, q.compare)
	return out
}

// pick is the query's rows, prev's first (in its order), then the rest.
func (s *Store) pick(q Query, prev []*Row) []*Row {
	s.mark++
	mark := s.mark
	want := func(r *Row) bool {
		return !r.dropped && r.mark != mark && q.Tab.Shows(r) && (q.Where == nil || q.Where(r)) && (q.Filter == "" || r.Matches(q.Filter))
	}
	out := make([]*Row, 0, len(prev)+8)
	for _, r := range prev {
		if want(r) {
			r.mark = mark
			out = append(out, r)
		}
	}
	s.rows.each(func(r *Row) {
		if want(r) {
			r.mark = mark
			out = append(out, r)
		}
	})
	return out
}

func (q Query) compare(a, b *Row) int {
	if q.Order != nil {
		if c := q.Order(a, b); c != 0 {
			return c
		}
	}
	return sockets.CompareKeys(&a.Socket, &b.Socket)
}

// IsSorted reports whether rows are in the query's order (for tests and
// checks).
func (q Query) IsSorted(rows []*Row) bool { return slices.IsSortedFunc(rows, q.compare) }
