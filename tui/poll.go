package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
)

// pollCmd takes a snapshot and assesses it, off the UI goroutine. The
// assessor remembers the last poll's verdicts; polls never overlap (the
// model starts one only when none is in flight), so it is used by one
// command at a time and never by Update.
func pollCmd(src sockets.Source, as *assess.Assessor, seq int, timeout time.Duration, now func() time.Time) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		snap, err := src.Snapshot(ctx)
		if err != nil {
			return pollErrorMsg{seq: seq, err: err, at: now()}
		}
		a := as.Assess(snap)
		// The verdicts hold copies of the sockets: the model keeps only the
		// snapshot's header, and the source may refill the array.
		header := *snap
		header.Sockets = nil
		if r, ok := src.(sockets.Recycler); ok {
			r.Recycle(snap)
		}
		return snapshotMsg{seq: seq, snap: &header, assessment: a, at: now()}
	}
}

// pollTimeout bounds a poll: a stuck /proc read must not hold polling forever.
func pollTimeout(interval time.Duration) time.Duration {
	return max(10*interval, 10*time.Second)
}
