package rowset

import (
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/traffic"
)

// MarkFor is how long a new row stays marked "+" and a closed one "-".
const MarkFor = 5 * time.Second

// Row is a socket as the monitor follows it across polls: its latest
// verdict and when it came and went. There is one per socket, 60,000 on a
// busy server, so it is kept small: 72 bytes, in the allocator's 80-byte
// class (TestRowIsSmall); with the history's slice inline it was 88, in
// the 96-byte class.
type Row struct {
	*assess.Verdict        // the latest poll's verdict: read only
	firstSeen       stamp  // when the monitor first saw it
	goneAt          stamp  // when it closed; zero while open
	gen             uint32 // the last poll that listed it
	mark            uint32 // scratch of Rows: picked in this call
	pos             int32  // its place in the last poll's order
	changed         uint32 // the last poll that changed how it may sort: verdict, closed (order.go)
	moved           uint32 // the last poll that changed its flow
	isNew           bool   // appeared after the first snapshot
	dropped         bool   // no longer in the store
	tab             Tab    // the tab that lists it, besides All states
	// unrecorded: a state change was not kept (MaxHistoryTotal) while the
	// history was still its first state alone; History says none.
	unrecorded bool
	// history is the states the socket went through, oldest first, at most
	// maxHistory: kept by the socket's addresses, so a connection's
	// history goes on when the kernel swaps it for a TIME_WAIT remnant.
	// Empty while a connection is still in the state it was first seen in
	// (most of them, most of the time): that one transition is the row's
	// state at FirstSeen, and 20,000 rows do not each keep a slice of it,
	// nor the 24 bytes of an empty one: nil, or a slice of one or more.
	history *[]Transition
	// flow is the socket's traffic as of the latest poll (immutable, from
	// the traffic tracker); nil where there are no counters.
	flow *traffic.Flow
	// hash is the hash of its key (rowIndex).
	hash uint64
}

// Flow is the socket's traffic as of the latest poll: a connection's rates,
// counters and minute of history, a listener's sum over its connections;
// nil for a socket without counters (UDP, TIME_WAIT, a closed row, or
// sockets read from /proc/net). Read only.
func (r *Row) Flow() *traffic.Flow { return r.flow }

// Transition is a state a socket entered, and when the monitor saw it.
type Transition struct {
	State string
	At    time.Time
}

// Gone is the last "state" of a connection's history: the kernel no longer
// lists it.
const Gone = "gone"

// maxHistory bounds a socket's history: a connection that flaps keeps its
// last states, not all of them.
const maxHistory = 12

// History is the states the socket went through, oldest first; none for a
// listener. States shorter than the poll interval can be missed.
func (r *Row) History() []Transition {
	h := r.states()
	if len(h) == 0 && !r.unrecorded && !r.Socket.IsListening() {
		return []Transition{{r.Socket.State, r.FirstSeen()}}
	}
	return h
}

// states is the history kept (none while the row is in its first state).
func (r *Row) states() []Transition {
	if r.history == nil {
		return nil
	}
	return *r.history
}

// InStateSince is when the socket entered its current state (as far as the
// monitor saw), or its first sighting.
func (r *Row) InStateSince() time.Time {
	if h := r.states(); len(h) > 0 {
		return h[len(h)-1].At
	}
	return r.FirstSeen()
}

// record notes a state the row entered, within the bounds; was is the
// state it was in (its first, while the history is empty). The slice is
// replaced, never changed in place: a View's copy may still read the old.
func (r *Row) record(was, state string, at time.Time, s *Store) {
	old := r.states()
	switch n := len(old); {
	case n > 0 && old[n-1].State == state:
		return
	case n == 0 && (was == state || r.unrecorded):
		return // still in its first state: nothing to keep (History says it)
	case n == 0:
		old = []Transition{{was, r.FirstSeen()}}
	}
	if s.historyTotal >= MaxHistoryTotal {
		// the bound in total: a machine with a million connections keeps states, not memory
		r.unrecorded = r.unrecorded || len(r.states()) == 0
		return
	}
	h := make([]Transition, 0, min(len(old)+1, maxHistory))
	h = append(h, old[max(len(old)+1-maxHistory, 0):]...)
	h = append(h, Transition{state, at})
	s.historyTotal += len(h) - len(r.states())
	r.history = &h
}

// Key is the socket's identity across polls.
func (r *Row) Key() sockets.SocketKey { return r.Socket.Key() }

// Tab is the tab that lists the row besides All states.
func (r *Row) Tab() Tab { return r.tab }

// FirstSeen is when the monitor first saw the socket.
func (r *Row) FirstSeen() time.Time { return r.firstSeen.Time() }

// Added reports whether the row is new and still marked "+" at now.
func (r *Row) Added(now time.Time) bool {
	return r.isNew && r.goneAt == 0 && now.Sub(r.firstSeen.Time()) < MarkFor
}

// Removed reports whether the socket has closed (the row is marked "-").
func (r *Row) Removed() bool { return r.goneAt != 0 }

// ClosedAt is when the socket closed; zero while it is open.
func (r *Row) ClosedAt() time.Time {
	if r.goneAt == 0 {
		return time.Time{}
	}
	return r.goneAt.Time()
}

// stamp is a moment in Unix nanoseconds, zero for none: a third of the size
// of a time.Time, and without a pointer for the collector to follow.
type stamp int64

func stampOf(t time.Time) stamp { return stamp(t.UnixNano()) }

// Time is the stamp as a time.Time.
func (s stamp) Time() time.Time { return time.Unix(0, int64(s)) }

// ConnectionOf reports whether r is a connection that came in through the
// listener l: the same namespace, protocol and port, and l's address (or l
// listens on every address).
func ConnectionOf(r, l *Row) bool {
	s, ls := &r.Socket, &l.Socket
	return !s.IsListening() && s.Direction == sockets.Inbound && s.Proto == ls.Proto && s.LPort == ls.LPort &&
		s.NetnsInode == ls.NetnsInode && (ls.Local.IsUnspecified() || ls.Local == s.Local)
}

// OtherEnd finds the other end of a connection whose both ends are on this
// machine (loopback, or two of its addresses): the row whose local end is
// r's remote one, in the same namespace. Nil when there is none.
func (s *Store) OtherEnd(r *Row) *Row {
	me := &r.Socket
	if me.IsListening() || !me.Remote.IsValid() || me.Remote.IsUnspecified() {
		return nil
	}
	k := *me
	k.Local, k.Remote, k.LPort, k.RPort = me.Remote, me.Local, me.RPort, me.LPort
	if other := s.rows.get(k.Key()); other != nil && other != r {
		return other
	}
	return nil
}
