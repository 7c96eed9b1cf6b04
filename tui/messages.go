package tui

import (
	"syscall"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
)

// tickMsg asks for a poll; it re-arms itself. The time comes from the
// injected clock, not from the message.
type tickMsg struct{}

// snapshotMsg carries a finished poll: the snapshot's header (its sockets
// are in the verdicts) and its assessment. seq is the poll's sequence
// number: a reply to a poll started before a pause is dropped.
type snapshotMsg struct {
	seq        int
	snap       *sockets.Snapshot
	assessment *assess.Assessment
	at         time.Time
}

// pollErrorMsg is a failed poll; the last good snapshot stays on screen.
type pollErrorMsg struct {
	seq int
	err error
	at  time.Time
}

func (e pollErrorMsg) Error() string { return e.err.Error() }

// signalSentMsg is the result of sending a signal to a process.
type signalSentMsg struct {
	target killTarget
	sig    syscall.Signal
	err    error
}

func (e signalSentMsg) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

// killCheckMsg comes two seconds after SIGTERM: is the port still held?
type killCheckMsg struct{ target killTarget }

// resolvedMsg carries a reverse DNS answer (name empty when there is none).
type resolvedMsg struct {
	addr string
	name string
}
