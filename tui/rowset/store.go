package rowset

import (
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/traffic"
)

// EventKind says what happened to a row in a poll.
type EventKind uint8

// The kinds of row event.
const (
	Added   EventKind = iota + 1 // a socket the monitor had not seen
	Updated                      // it reads differently: state, owners, risk, ...
	Deleted                      // it closed (its row stays marked "-" for MarkFor)
)

// Event is one row's change in a poll, as k9s's table data reports them.
type Event struct {
	Kind EventKind
	Row  *Row
}

// Change is what one poll did to the rows.
type Change struct {
	// Events lists every row added, updated or closed; the first poll is a
	// baseline and has none.
	Events []Event
	// Reordered is false when no row shown before reads or sorts
	// differently and none came or went: the usual second on a quiet
	// server, when the views need no rebuild.
	Reordered bool
	// Moved is true when some row's traffic changed (its rates, counters
	// or history): its cells read differently, in the same order unless
	// the rows are sorted by a rate. It is false on an idle machine.
	Moved bool
}

// Store holds every socket the monitor follows, by key. Apply and Expire
// change it; everything else only reads it.
type Store struct {
	rows       rowIndex
	order      []*Row // the rows of the last poll, in the order it listed them
	spare      []*Row // the order before, whose array the next poll refills
	gen        uint32
	applied    bool   // the first poll, the baseline, is in
	ghosts     int    // closed rows still shown
	closed     []*Row // those rows (and, until the next sweep, any listed again)
	counts     [TabCount]int
	multiNetns bool
	mark       uint32 // the last mark Rows handed out
	drops      uint32 // rows dropped so far (a kept order may still hold them)
	// orders is each tab's rows in the order last asked for (order.go).
	orders [TabCount]keptOrder
	// touched lists the rows whose changed or moved was set in the polls
	// from touchedFrom on (a row may be listed more than once), so that a
	// kept order catches up without a pass over every row.
	touched     []*Row
	touchedFrom uint32
	// historyTotal counts the transitions kept over every row.
	historyTotal int
}

// MaxHistoryTotal bounds the transitions kept over all rows.
const MaxHistoryTotal = 200_000

// NewStore returns an empty store.
func NewStore() *Store { return &Store{rows: newRowIndex(0)} }

// Counts is how many open sockets each tab lists (closed rows still shown
// are not counted).
func (s *Store) Counts() [TabCount]int { return s.counts }

// Len is how many rows the store holds, closed ones included.
func (s *Store) Len() int { return s.rows.n }

// Get is the row of a socket key, or nil.
func (s *Store) Get(k sockets.SocketKey) *Row { return s.rows.get(k) }

// MultiNetns reports whether the last poll saw sockets of more than one
// network namespace.
func (s *Store) MultiNetns() bool { return s.multiNetns }

// Applied reports whether a poll has been applied.
func (s *Store) Applied() bool { return s.applied }

// Apply merges a poll's verdicts: new sockets get rows (marked new, unless
// this is the first poll), listed ones take their new verdict, and sockets
// the poll no longer lists are marked closed.
func (s *Store) Apply(verdicts []*assess.Verdict, now time.Time) Change {
	return s.ApplyFlows(verdicts, nil, now)
}

// ApplyFlows is Apply with each socket's traffic, in the verdicts' order
// (flows may be shorter: the rest have none). A row takes its socket's
// flow; a flow that is the same value as before (an idle connection)
// changes nothing, and a new one makes the Change Moved, not Reordered.
func (s *Store) ApplyFlows(verdicts []*assess.Verdict, flows []*traffic.Flow, now time.Time) Change {
	first := !s.applied // the first poll is a baseline
	s.applied = true
	if s.rows.n == 0 { // sized at once, rather than grown by doubling
		s.rows = newRowIndex(len(verdicts))
	}
	s.gen++
	s.multiNetns = false
	var ch Change
	var counts [TabCount]int // the open rows of each tab: the listed ones
	wasShown := s.rows.n - s.ghosts
	listed := 0
	clear(s.spare[:cap(s.spare)]) // it holds no row that may be dropped
	if cap(s.spare) < len(verdicts) {
		// Sized once, with room for a few more sockets, rather than grown by
		// doubling: the first two polls each grew one from nothing (1 MB at
		// 20,000 sockets), and kept up to twice the room it needs.
		s.spare = make([]*Row, 0, len(verdicts)+len(verdicts)/16)
	}
	order := s.spare[:0]
	next := 0 // where in the last poll's order the next socket is likely
	for i, v := range verdicts {
		var flow *traffic.Flow
		if i < len(flows) {
			flow = flows[i]
		}
		if n := v.Socket.Netns; n != "" && n != sockets.HostNetns {
			s.multiNetns = true
		}
		// Sockets come in the kernel's order, which holds from poll to
		// poll: the row after the last one found is tried first, and found
		// there (the very same verdict, or one of the same socket) it costs
		// no look-up by key. At 20,000 sockets the look-ups were most of a
		// quiet poll.
		var r *Row
		if next < len(s.order) && (s.order[next].Verdict == v || s.order[next].Key() == v.Socket.Key()) {
			r = s.order[next]
		} else {
			r = s.rows.get(v.Socket.Key())
		}
		was := v.Socket.State // the state the row was in: its first, for a new row
		if r != nil {
			next = int(r.pos) + 1
			was = r.Socket.State
		}
		switch {
		case r == nil:
			r = &Row{Verdict: v, firstSeen: stampOf(now), isNew: !first, tab: TabOf(&v.Socket)}
			s.rows.add(v.Socket.Key(), r)
			s.touch(r, &r.changed)
			ch.Reordered = true
			if !first {
				ch.Events = append(ch.Events, Event{Added, r})
			}
		case r.gen == s.gen: // two sockets with one key: the first wins
			continue
		case r.Verdict != v:
			if r.Removed() || !assess.ReadsTheSame(r.Verdict, v) {
				ch.Reordered = true
				ch.Events = append(ch.Events, Event{Updated, r})
			}
			listed++
		case r.Removed():
			ch.Reordered = true
			ch.Events = append(ch.Events, Event{Updated, r})
			listed++
		default:
			listed++
		}
		if r.Verdict != v {
			s.touch(r, &r.changed) // the kept orders put it back in its place
		}
		r.Verdict, r.tab, r.goneAt, r.gen = v, TabOf(&v.Socket), 0, s.gen
		if r.flow != flow {
			r.flow = flow
			s.touch(r, &r.moved)
			ch.Moved = true
		}
		if !v.Socket.IsListening() {
			r.record(was, v.Socket.State, now, s)
		}
		r.pos = int32(len(order))
		order = append(order, r)
		if v.Baseline.Status != baseline.Missing { // a row for what is not there: no socket to count
			if r.tab != All {
				counts[r.tab]++
			}
			counts[All]++
		}
	}
	s.order, s.spare = order, s.order
	s.counts = counts
	if ch.Reordered || listed < wasShown || s.ghosts > 0 {
		ch.Reordered = true
		ch.Events = s.sweep(now, ch.Events, s.spare)
	}
	return ch
}

// Each calls fn with every open row, in no order (the per-program view
// sums them without sorting 60,000 rows).
func (s *Store) Each(fn func(*Row)) {
	s.rows.each(func(r *Row) {
		if !r.Removed() {
			fn(r)
		}
	})
}

// Expire drops the closed rows whose mark has been shown, and reports
// whether any went.
func (s *Store) Expire(now time.Time) bool {
	if s.ghosts == 0 {
		return false
	}
	before := s.rows.n
	s.sweep(now, nil, nil)
	return s.rows.n != before
}

// sweep marks closed the rows of the last poll's order (prev) that this
// poll did not list, and drops the closed rows whose mark ran out. It
// walks those two lists only, not every row: at 200,000 rows a pass over
// the index was a third of the UI goroutine's share of a poll.
func (s *Store) sweep(now time.Time, events []Event, prev []*Row) []Event {
	for _, r := range prev {
		if r.gen == s.gen || r.goneAt != 0 || r.dropped {
			continue
		}
		// No order reads whether a row is closed: it keeps its place, but
		// its flow goes (an order by rate moves it).
		r.goneAt = stampOf(now)
		if r.flow != nil {
			r.flow = nil // a closed socket moves no more
			s.touch(r, &r.moved)
		}
		events = append(events, Event{Deleted, r})
		if !r.Socket.IsListening() {
			r.record(r.Socket.State, Gone, now, s)
		}
		s.closed = append(s.closed, r)
	}
	keep := s.closed[:0]
	for _, r := range s.closed {
		switch {
		case r.goneAt == 0 || r.dropped: // listed again (or listed twice here)
		case now.Sub(r.goneAt.Time()) >= MarkFor:
			s.rows.remove(r)
			r.dropped = true
			s.drops++
			s.historyTotal -= len(r.states())
		default:
			keep = append(keep, r)
		}
	}
	clear(s.closed[len(keep):])
	s.closed = keep
	s.ghosts = len(keep)
	return events
}
