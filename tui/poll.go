package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/events"
	"github.com/portwatch/portwatch/sockets/poll"
)

// poller runs the one poll every output shares (sockets/poll) in a command,
// off the UI goroutine, and sends the monitor's events to their sink. Polls
// never overlap (the model starts one only when none is in flight), so it
// is used by one command at a time, and never by Update.
type poller struct {
	poll     *poll.Poller
	onEvents func([]events.Event) error
	now      func() time.Time
}

func newPoller(cfg Config) *poller {
	return &poller{poll: poll.New(poll.Config{Source: cfg.Source, Knowledge: cfg.Knowledge, Interval: cfg.Interval, Now: cfg.Now}),
		onEvents: cfg.OnEvents, now: cfg.Now}
}

// pollCmd polls once against the baseline and says what changed.
func (p *poller) pollCmd(seq int, b *baseline.Baseline) tea.Cmd {
	return func() tea.Msg {
		r, err := p.poll.Poll(context.Background(), b)
		if err != nil {
			return pollErrorMsg{seq: seq, err: err, at: p.now()}
		}
		var logErr error
		if len(r.Events) > 0 && p.onEvents != nil {
			logErr = p.onEvents(r.Events)
		}
		// The model keeps the verdicts (copies) and the snapshot's header;
		// the array goes back to the source to be refilled.
		r.Release()
		return snapshotMsg{seq: seq, snap: r.Snapshot, assessment: r.Assessment, flows: r.Traffic.Flows, events: r.Events, logErr: logErr, at: r.At}
	}
}
