package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/events"
	"github.com/portwatch/portwatch/sockets/traffic"
)

// poller is what the poll command keeps between polls: the source, the
// assessor's memory of verdicts, the traffic tracker's counters and the
// events tracker. Polls never overlap
// (the model starts one only when none is in flight), so it is used by one
// command at a time, and never by Update.
type poller struct {
	src      sockets.Source
	assessor *assess.Assessor
	traffic  *traffic.Tracker // nil: no rates (a test's poller)
	tracker  *events.Tracker
	onEvents func([]events.Event) error
	now      func() time.Time
}

// pollCmd takes a snapshot and assesses it against the baseline, off the UI
// goroutine, and says what changed since the last poll.
func (p *poller) pollCmd(seq int, b *baseline.Baseline, timeout time.Duration) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		// The counters cost the kernel's dump a third more: while nothing
		// moves they are asked for every few seconds only.
		if cs, ok := p.src.(counterSource); ok && p.traffic != nil {
			cs.WantCounters(p.traffic.Wants(time.Now()))
		}
		snap, err := p.src.Snapshot(ctx)
		if err != nil {
			return pollErrorMsg{seq: seq, err: err, at: p.now()}
		}
		at := p.now()
		// The counters become rates and health before the assessment, which
		// explains the health; the flows go to the rows as they are.
		var moves traffic.Poll
		if p.traffic != nil {
			moves = *p.traffic.Observe(snap)
		}
		a := p.assessor.AssessWith(snap, assess.Context{Baseline: b, Firewall: assess.FirewallOf(snap.Firewalls), Health: moves.Health})
		evs := p.tracker.Observe(a, at)
		var logErr error
		if len(evs) > 0 && p.onEvents != nil {
			logErr = p.onEvents(evs)
		}
		// The verdicts hold copies of the sockets: the model keeps only the
		// snapshot's header, and the source may refill the array.
		header := *snap
		header.Sockets = nil
		if r, ok := p.src.(sockets.Recycler); ok {
			r.Recycle(snap)
		}
		return snapshotMsg{seq: seq, snap: &header, assessment: a, flows: moves.Flows, events: evs, logErr: logErr, at: at}
	}
}

// counterSource is a source that can leave the TCP counters out of a
// snapshot (collect.Live).
type counterSource interface{ WantCounters(bool) }

// pollTimeout bounds a poll: a stuck /proc read must not hold polling forever.
func pollTimeout(interval time.Duration) time.Duration {
	return max(10*interval, 10*time.Second)
}
