package rowset

import "github.com/portwatch/portwatch/sockets"

// View is the rows of one query with a selection that follows its socket:
// after a refresh, a sort or a filter the selected socket is found again by
// its key, and when it is gone its neighbour takes its place. A View is a
// small value; copies share no state that either can change.
type View struct {
	rows     []*Row
	cursor   int
	selected sockets.SocketKey
	closed   int // rows marked closed, counted at the refresh (a row closes only in a poll that refreshes)
}

// Closed is how many of the rows are marked closed: counted once per
// refresh, not for every frame and key (200,000 rows each time).
func (v *View) Closed() int { return v.closed }

// Rows is the view's rows, in order. The slice must not be changed.
func (v *View) Rows() []*Row { return v.rows }

// Len is the number of rows.
func (v *View) Len() int { return len(v.rows) }

// Cursor is the selected row's index, -1 when there are no rows.
func (v *View) Cursor() int { return v.cursor }

// Selected is the selected socket's key (the zero key for none).
func (v *View) Selected() sockets.SocketKey { return v.selected }

// Current is the selected row, or nil.
func (v *View) Current() *Row {
	if v.cursor < 0 || v.cursor >= len(v.rows) {
		return nil
	}
	return v.rows[v.cursor]
}

// Refresh takes the query's rows from the store and finds the selection
// again.
func (v *View) Refresh(s *Store, q Query) {
	prevCursor := v.cursor
	v.rows = s.Rows(q, v.rows)
	v.closed = 0
	if s.ghosts > 0 {
		for _, r := range v.rows {
			if r.Removed() {
				v.closed++
			}
		}
	}
	v.cursor = -1
	if v.selected != (sockets.SocketKey{}) {
		for i, r := range v.rows {
			if r.Key() == v.selected {
				v.cursor = i
				break
			}
		}
	}
	if v.cursor < 0 { // the selected socket is gone: its neighbour takes its place
		v.cursor = min(max(prevCursor, 0), len(v.rows)-1)
		v.selected = sockets.SocketKey{}
		if v.cursor >= 0 {
			v.selected = v.rows[v.cursor].Key()
		}
	}
}

// Select selects the row of a socket key, if it is in the view.
func (v *View) Select(k sockets.SocketKey) bool {
	for i, r := range v.rows {
		if r.Key() == k {
			v.cursor, v.selected = i, k
			return true
		}
	}
	return false
}

// Move moves the cursor by delta rows, within the rows.
func (v *View) Move(delta int) {
	if len(v.rows) == 0 {
		return
	}
	v.cursor = min(max(v.cursor+delta, 0), len(v.rows)-1)
	v.selected = v.rows[v.cursor].Key()
}
