package tui

import (
	"syscall"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/events"
	"github.com/portwatch/portwatch/sockets/traffic"
	"github.com/portwatch/portwatch/tui/rowset"
)

// tickMsg asks for a poll; it re-arms itself. The time comes from the
// injected clock, not from the message.
type tickMsg struct{}

// snapshotMsg carries a finished poll: the snapshot's header (its sockets
// are in the verdicts), its assessment and each socket's traffic (in the
// verdicts' order; immutable, shared with the tracker). seq is the poll's
// sequence number: a reply to a poll started before a pause is dropped.
type snapshotMsg struct {
	seq        int
	snap       *sockets.Snapshot
	assessment *assess.Assessment
	flows      []*traffic.Flow // nil when no socket has counters
	events     []events.Event  // what changed since the last poll
	logErr     error           // writing the events to --log failed
	at         time.Time
}

// sortedMsg carries tabs' rows sorted off the UI goroutine (rowset.SortJob).
type sortedMsg struct{ sorted rowset.Sorted }

// pollErrorMsg is a failed poll; the last good snapshot stays on screen.
type pollErrorMsg struct {
	seq int
	err error
	at  time.Time
}

func (e pollErrorMsg) Error() string { return e.err.Error() }

// signalSentMsg is the result of signalling the processes of a kill
// dialog: an error per target, nil where the signal went.
type signalSentMsg struct {
	key     sockets.SocketKey
	socket  string
	sig     syscall.Signal
	targets []sockets.Process
	errs    []error
}

// killCheckMsg comes killGrace after SIGTERM: which of the processes that
// were sent it still hold the port?
type killCheckMsg struct {
	key     sockets.SocketKey
	socket  string
	targets []sockets.Process
}

// baselineSavedMsg says where the baseline b asked for was saved, or why
// it was not.
type baselineSavedMsg struct {
	b   *baseline.Baseline
	err error
}

// labStartMsg starts the lab's first step, once the program runs.
type labStartMsg struct{}

// resolvedMsg carries a reverse DNS answer (name empty when there is none).
type resolvedMsg struct {
	addr string
	name string
}
