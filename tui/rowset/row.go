package rowset

import (
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
)

// MarkFor is how long a new row stays marked "+" and a closed one "-".
const MarkFor = 5 * time.Second

// Row is a socket as the monitor follows it across polls: its latest
// verdict and when it came and went. There is one per socket, 60,000 on a
// busy server, so it is kept small.
type Row struct {
	*assess.Verdict        // the latest poll's verdict: read only
	firstSeen       stamp  // when the monitor first saw it
	goneAt          stamp  // when it closed; zero while open
	gen             uint32 // the last poll that listed it
	mark            uint32 // scratch of Rows: picked in this call
	pos             int32  // its place in the last poll's order
	isNew           bool   // appeared after the first snapshot
	dropped         bool   // no longer in the store
	tab             Tab    // the tab that lists it, besides All states
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
