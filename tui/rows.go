package tui

import (
	"slices"
	"strings"

	"github.com/portwatch/portwatch/sockets"
)

// applySnapshot merges a poll into the tracked sockets: new ones are marked,
// vanished ones stay marked closed for a few seconds, and the first
// snapshot is a baseline in which nothing is new.
func (m *Model) applySnapshot(msg snapshotMsg) {
	baseline := m.snap == nil
	if len(m.entries) == 0 { // sized at once, rather than grown by doubling
		m.entries = make(map[sockets.SocketKey]*tracked, len(msg.entries))
	}
	m.snap, m.analysis = msg.snap, msg.analysis
	m.pollErr = nil
	m.lastGood = msg.at
	m.gen++
	m.multiNetns = false
	// When every row that was shown is listed again, reading the same and
	// no other, the rows need no pass and no sort: the usual second on a
	// quiet server.
	wasShown := len(m.entries) - m.ghosts
	same, changed := 0, false
	for _, e := range msg.entries {
		if e.sock.Netns != "" && e.sock.Netns != sockets.HostNetns {
			m.multiNetns = true
		}
		// A connection unchanged since the last poll comes back as the same
		// entry, which knows its row: no look-up by key for it.
		if t := e.row; t != nil && t.entry == e && !t.dropped {
			if t.gen != m.gen {
				changed = changed || t.removed()
				t.goneAt, t.gen = 0, m.gen
				same++
			}
			continue
		}
		key := e.key()
		t, ok := m.entries[key]
		switch {
		case !ok:
			t = &tracked{firstSeen: stampOf(m.now), isNew: !baseline, gen: m.gen}
			t.show(e)
			m.entries[key] = t
			changed = true
		case t.gen == m.gen: // two sockets with one key: keep the first
		default:
			if t.removed() || rowChanged(t.entry, e) {
				changed = true
			}
			t.show(e)
			t.goneAt, t.gen = 0, m.gen
			same++
		}
	}
	if !changed && same == wasShown && m.ghosts == 0 {
		m.skippedRebuilds++
		if m.mode == modeDetail {
			m.refreshDetail()
		}
		return
	}
	m.rebuildRows(true)
}

// rowChanged: would a row read or sort differently with the new entry?
// Listeners and TIME_WAIT remnants get a new entry every poll.
func rowChanged(old, e *entry) bool {
	return old.tab != e.tab || old.conns != e.conns || old.risk != e.risk || old.info != e.info ||
		old.flooded != e.flooded || old.sock.DualStack != e.sock.DualStack || !sameDescription(&old.sock, &e.sock)
}

// tabOf says which tab shows a socket; the All-states tab shows them all.
func tabOf(s *sockets.Socket) tab {
	switch s.Kind() {
	case sockets.KindListening:
		return tabListening
	case sockets.KindEstablished:
		return tabEstablished
	}
	return tabAll
}

// rebuild recomputes the current tab's rows (filter, then a stable sort) and
// finds the selected socket again by its key.
func (m *Model) rebuild() { m.rebuildRows(false) }

// rebuildRows is rebuild; after a poll (polled) it also marks closed the
// rows the poll did not list. One pass over every tracked socket does both:
// at 60,000 sockets each pass costs.
func (m *Model) rebuildRows(polled bool) {
	m.counts = [tabCount]int{}
	m.ghosts = 0
	needle := strings.ToLower(strings.TrimSpace(m.filter.Value()))
	prevCursor := m.cursor
	picked := m.picked[:0]
	for k, t := range m.entries {
		if polled && t.gen != m.gen && t.goneAt == 0 {
			t.goneAt = stampOf(m.now)
		}
		if t.removed() {
			// Closed rows disappear once their mark has been shown.
			if m.now.Sub(t.goneAt.Time()) >= markFor {
				delete(m.entries, k)
				t.dropped = true // its entry must not find it again
				continue
			}
			m.ghosts++
		} else { // closed rows are still shown, not counted
			if tt := t.tab; tt != tabAll {
				m.counts[tt]++
			}
			m.counts[tabAll]++
		}
		if m.tab != tabAll && t.tab != m.tab {
			continue
		}
		if needle != "" && !t.matches(needle) {
			continue
		}
		picked = append(picked, t)
		t.picked = true
	}
	// The rows are laid out in last time's order, the new ones after: the
	// sort then meets them nearly in order, which it handles in about one
	// pass instead of sorting 60,000 rows from scratch.
	rows := m.rows[:0]
	for _, t := range m.rows {
		if t.picked {
			rows = append(rows, t)
			t.picked = false
		}
	}
	for _, t := range picked {
		if t.picked {
			rows = append(rows, t)
			t.picked = false
		}
	}
	clear(picked) // it holds no row after this
	m.rows, m.picked = rows, picked[:0]
	m.sortRows()
	m.cursor = -1
	if sel := m.selected[m.tab]; sel != (sockets.SocketKey{}) {
		for i, t := range m.rows {
			if t.key() == sel {
				m.cursor = i
				break
			}
		}
	}
	if m.cursor < 0 {
		// The selected socket is gone: its neighbour takes its place.
		m.cursor = min(max(prevCursor, 0), len(m.rows)-1)
		m.selected[m.tab] = sockets.SocketKey{}
		if m.cursor >= 0 {
			m.selected[m.tab] = m.rows[m.cursor].key()
		}
	}
	m.scrollToCursor()
	if m.mode == modeDetail {
		m.refreshDetail()
	}
}

// sortRows orders by the tab's sort column, then by key, so equal rows keep
// their order from poll to poll.
func (m *Model) sortRows() { slices.SortFunc(m.rows, m.rowOrder()) }

// rowOrder compares rows by the tab's sort column, then by key.
func (m *Model) rowOrder() func(a, b *tracked) int {
	cols := tabColumns[m.tab]
	st := m.sorts[m.tab]
	less := cols[min(st.col, len(cols)-1)].less
	return func(a, b *tracked) int {
		c := less(a, b)
		if st.reverse {
			c = -c
		}
		if c != 0 {
			return c
		}
		return sockets.CompareKeys(&a.sock, &b.sock)
	}
}

// current is the selected row, or nil.
func (m *Model) current() *tracked {
	if m.cursor < 0 || m.cursor >= len(m.rows) {
		return nil
	}
	return m.rows[m.cursor]
}

func (m *Model) moveCursor(delta int) {
	if len(m.rows) == 0 {
		return
	}
	m.cursor = min(max(m.cursor+delta, 0), len(m.rows)-1)
	m.selected[m.tab] = m.rows[m.cursor].key()
	m.scrollToCursor()
}

func (m *Model) switchTab(t tab) {
	if t == m.tab {
		return
	}
	m.tab = t
	m.cursor, m.offset = 0, 0
	m.rebuild()
}

// scrollToCursor keeps the cursor inside the visible rows.
func (m *Model) scrollToCursor() {
	h := m.tableRows()
	if h <= 0 {
		m.offset = 0
		return
	}
	if m.cursor < m.offset {
		m.offset = max(m.cursor, 0)
	}
	if m.cursor >= m.offset+h {
		m.offset = m.cursor - h + 1
	}
	m.offset = max(min(m.offset, len(m.rows)-h), 0)
}
