// Package poll assembles one poll of the machine, in one place, for every
// output: the monitor, portwatch watch, --once and --json. A poll collects
// the sockets (any sockets.Source), turns the kernel's counters into rates
// and health (traffic), judges every socket with that health and the
// baseline (assess), and says what changed since the last poll (events).
// One timeout bounds it and one rule says when the kernel is asked for the
// counters, whoever the caller is.
//
// It knows no UI and no kernel interface: the caller hands it the source
// (collect.Live on a real machine) and reads the Result.
package poll

import (
	"context"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/events"
	"github.com/portwatch/portwatch/sockets/traffic"
)

// Config is what a Poller is built from.
type Config struct {
	// Source lists the sockets. When it implements CounterSource it is told
	// before each poll whether the kernel's TCP counters are wanted; when it
	// implements sockets.Recycler the snapshot's array goes back to it.
	Source sockets.Source
	// Knowledge names services; nil means assess.SystemKnowledge().
	Knowledge *assess.Knowledge
	// Interval is the time between polls (the timeout follows from it);
	// zero means one second.
	Interval time.Duration
	// Now is the clock that stamps events; nil means time.Now.
	Now func() time.Time
	// Traffic, when set, replaces the default tracker (a test sets its
	// bounds, such as how long a send queue waits before it is stuck).
	Traffic *traffic.Tracker
}

// CounterSource is a source that can leave the TCP counters out of a
// snapshot (collect.Live): they make the kernel's dump a third dearer.
type CounterSource interface{ WantCounters(bool) }

// Poller keeps what lasts between polls: the assessor's memory of verdicts,
// the traffic tracker's counters and the events tracker's last poll. Polls
// must not overlap: one caller (the monitor's poll command, watch's loop)
// uses it at a time.
type Poller struct {
	src      sockets.Source
	assessor *assess.Assessor
	traffic  *traffic.Tracker
	events   *events.Tracker
	now      func() time.Time
	timeout  time.Duration
	// held are the assessments of the last three polls, oldest first:
	// their verdicts arrays are the callers' (see Poll). The oldest goes
	// back to the assessor at the next poll, so a quiet poll makes no array.
	held [3]*assess.Assessment
}

// New returns a Poller for cfg.
func New(cfg Config) *Poller {
	if cfg.Knowledge == nil {
		cfg.Knowledge = assess.SystemKnowledge()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Traffic == nil {
		cfg.Traffic = traffic.NewTracker()
	}
	return &Poller{src: cfg.Source, assessor: assess.NewAssessor(cfg.Knowledge), traffic: cfg.Traffic,
		events: events.NewTracker(), now: cfg.Now, timeout: Timeout(cfg.Interval)}
}

// Timeout bounds a poll: a stuck /proc read must not hold polling forever,
// and a slow machine at 100,000 sockets still finishes.
func Timeout(interval time.Duration) time.Duration {
	return max(10*interval, 10*time.Second)
}

// Result is one poll: what every output reads.
type Result struct {
	// Snapshot is what the source read: when, what could not be read, the
	// firewalls, and the sockets until Release hands their array back to
	// the source (the verdicts hold copies of them).
	Snapshot *sockets.Snapshot
	// Assessment judges every socket, in the snapshot's order (a verdict
	// per socket), with each connection's health and the baseline.
	Assessment *assess.Assessment
	// Traffic is the counters' reading: a flow per socket, in the same
	// order, and the bytes each program moved in this poll.
	Traffic traffic.Poll
	// Events is what changed since the last poll.
	Events []events.Event
	// At is when the poll finished (the clock of Config.Now); Took how long
	// it took, from asking the source to the events.
	At   time.Time
	Took time.Duration

	src sockets.Source // until Release
}

// Poll reads the machine once and judges it against b (nil: no baseline).
// ctx may end it early (a signal); the poll's own timeout bounds it too.
//
// A Result's Assessment.Verdicts array is the caller's for two more polls:
// the third poll after it refills the array (the verdicts it pointed to
// stay valid, immutable). The monitor holds the last poll's assessment
// while the next poll runs, and one more when a pause drops a reply in
// flight; a caller keeping an assessment longer copies its Verdicts.
func (p *Poller) Poll(ctx context.Context, b *baseline.Baseline) (*Result, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	if cs, ok := p.src.(CounterSource); ok {
		cs.WantCounters(p.traffic.Wants(time.Now()))
	}
	snap, err := p.src.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	// The counters become rates and health before the assessment, which
	// explains the health.
	moves := *p.traffic.Observe(snap)
	a, evs, at := p.judge(snap, b, moves.Health)
	return &Result{Snapshot: snap, Assessment: a, Traffic: moves, Events: evs, At: at, Took: time.Since(start), src: p.src}, nil
}

// judge assesses a snapshot with the traffic's health and says what
// changed: the part of a poll that is the poller's own, besides the source
// and the traffic tracker.
func (p *Poller) judge(snap *sockets.Snapshot, b *baseline.Baseline, health []sockets.Health) (*assess.Assessment, []events.Event, time.Time) {
	p.assessor.Recycle(p.held[0])
	a := p.assessor.AssessWith(snap, assess.Context{Baseline: b, Firewall: assess.FirewallOf(snap.Firewalls), Health: health})
	p.held = [3]*assess.Assessment{p.held[1], p.held[2], a}
	at := p.now()
	return a, p.events.Observe(a, at), at
}

// Release hands the snapshot's array of sockets back to the source, which
// refills it at the next poll instead of allocating another (at 60,000
// sockets, 9 MB a second less to collect). Snapshot keeps its header. Call
// it once the sockets are read, before the next poll; the verdicts are
// copies and stay valid.
func (r *Result) Release() {
	if r.src == nil {
		return
	}
	header := *r.Snapshot
	header.Sockets = nil
	if rc, ok := r.src.(sockets.Recycler); ok {
		rc.Recycle(r.Snapshot)
	}
	r.Snapshot, r.src = &header, nil
}
