//go:build linux

package main

import (
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/safefile"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// The metrics of portwatch watch. Their labels are bounded: a listener's
// own place (namespace, protocol, local address, port), program and user,
// which a machine has tens of; connection states; finding codes. Never a
// remote address or port, which would make a series per peer.
var (
	descListening = prometheus.NewDesc("portwatch_listening",
		"A listening socket (1), by its place, program and user; expected is yes, no, changed, or unknown without a baseline; firewall is what a new connection from outside meets (open, restricted, filtered, closed, unknown; none where no ruleset was read or the listener is on loopback).",
		[]string{"netns", "proto", "address", "port", "program", "user", "expected", "firewall"}, nil)
	descUnexpected = prometheus.NewDesc("portwatch_unexpected_listeners",
		"Listeners the baseline does not name (exported only with a baseline).", nil, nil)
	descChanged = prometheus.NewDesc("portwatch_changed_listeners",
		"Listeners on a place the baseline names, held by another program or user (exported only with a baseline).", nil, nil)
	descMissing = prometheus.NewDesc("portwatch_missing_listeners",
		"Baseline entries no listener answers (exported only with a baseline).", nil, nil)
	descBaselineEntries = prometheus.NewDesc("portwatch_baseline_entries",
		"Entries of the baseline file in use (exported only with a baseline).", []string{"path"}, nil)
	descConnections = prometheus.NewDesc("portwatch_connections",
		"Sockets that are not listeners, by TCP state (a connected UDP socket is ESTABLISHED).", []string{"state"}, nil)
	descFindings = prometheus.NewDesc("portwatch_findings",
		"Findings on the sockets and the missing listeners, by severity and code.", []string{"severity", "code"}, nil)
	descRole = prometheus.NewDesc("portwatch_server_role",
		"The machine's roles as its listeners show them (server profiling: web server, database, remote administration, ...), 1 each; reachable is yes when one of its listeners can be reached from outside.",
		[]string{"role", "detail", "reachable"}, nil)
	descStandout = prometheus.NewDesc("portwatch_profile_standouts",
		"What stands out of the server profile (a database reachable on a web server, a remote desktop on a server, ...), by code and risk.",
		[]string{"code", "risk"}, nil)
	descPollDuration = prometheus.NewDesc("portwatch_poll_duration_seconds",
		"How long the last poll took to read and judge the sockets.", nil, nil)
	descLastPoll = prometheus.NewDesc("portwatch_last_poll_timestamp_seconds",
		"When the last poll read the sockets, in seconds since the epoch.", nil, nil)
	descAggregated = prometheus.NewDesc("portwatch_listening_aggregated",
		"Listeners past the cap on portwatch_listening's series (maxListenerSeries), counted by expected and firewall instead of a series each.",
		[]string{"expected", "firewall"}, nil)
)

// The caps that bound what watch exports, whatever a local user opens: a
// listener or a program name is the user's to make, and a Prometheus with
// sample_limit drops a whole target (up=0, every alert quiet) once it
// exports more. Past a cap the rest is counted, not dropped silently
// (portwatch_listening_aggregated, portwatch_series_capped), and the
// listeners that matter are kept first (see listenerRank).
const (
	maxListenerSeries = 500
)

// listenerLabels are one listener's label values, in descListening's order.
type listenerLabels [8]string

type findingKey struct {
	severity assess.Risk
	code     string
}

// pollState is what one poll exports. It is made whole and then swapped in,
// so a scrape never sees half a poll: the series of a listener that closed
// are gone from the next state, not left behind.
type pollState struct {
	listeners   []listenerLabels
	baseline    *baseline.Baseline
	unexpected  int
	changed     int
	missing     int
	conns       map[string]int
	findings    map[findingKey]int
	pollSeconds float64
	taken       time.Time
	// aggregated counts the listeners past the cap by (expected,
	// firewall); capped is how many listener series it stands for.
	aggregated map[[2]string]int
	capped     int
	profile    assess.Profile // immutable: the assessment's
}

// exporter is portwatch watch's metrics: a prometheus.Collector over the
// last poll's state, in a registry of its own (no Go runtime metrics: the
// textfile must not repeat node_exporter's own).
type exporter struct {
	state    atomic.Pointer[pollState]
	registry *prometheus.Registry
	errors   prometheus.Counter
	// capped is portwatch_series_capped, by the metric a cap holds back:
	// set by update for the listeners and by programBytes for programs.
	capped *prometheus.GaugeVec

	// The counts of the last poll's verdicts, and those verdicts in order:
	// update adjusts the counts by the verdicts that differ, see there.
	// Only the poll loop touches them.
	prev     []*assess.Verdict
	conns    map[string]int
	findings map[findingKey]int
	// programs counts the sockets each program holds (the first owner's
	// name, as traffic names them): which programs' byte counters may go.
	programs map[string]int
	// priority is the programs holding a listener ranked first (UNEXPECTED,
	// CHANGED or HIGH) in the last poll.
	priority map[string]bool

	maxListeners int // maxListenerSeries; a test lowers it
}

func newExporter() *exporter {
	e := &exporter{registry: prometheus.NewRegistry(), conns: map[string]int{}, findings: map[findingKey]int{},
		programs: map[string]int{}, priority: map[string]bool{}, maxListeners: maxListenerSeries}
	e.errors = prometheus.NewCounter(prometheus.CounterOpts{Name: "portwatch_poll_errors_total",
		Help: "Polls that failed to read the sockets or to write their events or textfile."})
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{Name: "portwatch_build_info",
		Help: "portwatch's version (always 1).", ConstLabels: prometheus.Labels{"version": version}})
	buildInfo.Set(1)
	e.capped = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "portwatch_series_capped",
		Help: "Series a cap held back from the last poll's metrics, by the metric capped (portwatch_listening: listeners; portwatch_program_bytes: programs): 0 below the cap."},
		[]string{"metric"})
	e.capped.WithLabelValues("portwatch_listening")
	e.registry.MustRegister(e, e.errors, buildInfo, e.capped)
	return e
}

// Describe implements prometheus.Collector.
func (e *exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descListening, descUnexpected, descChanged, descMissing, descBaselineEntries,
		descConnections, descFindings, descPollDuration, descLastPoll, descAggregated, descRole, descStandout} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: the last poll, or nothing before
// the first.
func (e *exporter) Collect(ch chan<- prometheus.Metric) {
	st := e.state.Load()
	if st == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, l := range st.listeners {
		gauge(descListening, 1, l[:]...)
	}
	if st.baseline != nil {
		gauge(descUnexpected, float64(st.unexpected))
		gauge(descChanged, float64(st.changed))
		gauge(descMissing, float64(st.missing))
		gauge(descBaselineEntries, float64(len(st.baseline.Entries)), st.baseline.Path)
	}
	for state, n := range st.conns {
		gauge(descConnections, float64(n), state)
	}
	for k, n := range st.findings {
		gauge(descFindings, float64(n), k.severity.String(), k.code)
	}
	for k, n := range st.aggregated {
		gauge(descAggregated, float64(n), k[0], k[1])
	}
	for _, r := range st.profile.Roles { // a few: the roles are a fixed list
		reachable := "no"
		if r.Reachable {
			reachable = "yes"
		}
		gauge(descRole, 1, r.Name, r.Detail, reachable)
	}
	standouts := map[[2]string]int{}
	for _, so := range st.profile.Standouts {
		standouts[[2]string{so.Code, so.Risk.String()}]++
	}
	for k, n := range standouts {
		gauge(descStandout, float64(n), k[0], k[1])
	}
	gauge(descPollDuration, st.pollSeconds)
	gauge(descLastPoll, float64(st.taken.UnixNano())/1e9)
}

// expectedWords are portwatch_listening's expected label values.
var expectedWords = map[baseline.Status]string{
	baseline.NotCompared: "unknown", baseline.Expected: "yes", baseline.Unexpected: "no", baseline.Changed: "changed",
}

// update makes the state of one poll and swaps it in.
//
// Counting the connections by state and the findings by code touches every
// verdict, and at 20,000 sockets a second after the last poll each one is a
// cache miss: most of a poll's export. But the assessor hands back the same
// *Verdict for a connection that has not changed, and the kernel lists
// sockets in the same order poll after poll, so the counts are kept between
// polls and adjusted where this poll's verdict at an index is not the last
// poll's: the old one's share taken out, the new one's put in. The sums are
// exactly those of a recount (verdicts never change once made), whatever
// the order; an unchanged poll reads two arrays of pointers and nothing else.
// The listeners are found in the snapshot's array, which a is the
// assessment of (a verdict per socket, in order): read in sequence, it costs
// a fraction of visiting every verdict.
func (e *exporter) update(a *assess.Assessment, snap *sockets.Snapshot, took time.Duration) {
	for i, v := range a.Verdicts {
		if i < len(e.prev) {
			if e.prev[i] == v {
				continue
			}
			e.count(e.prev[i], -1)
		}
		e.count(v, +1)
	}
	for i := len(a.Verdicts); i < len(e.prev); i++ {
		e.count(e.prev[i], -1)
	}
	e.prev = append(e.prev[:0], a.Verdicts...)

	st := &pollState{baseline: a.Baseline, conns: make(map[string]int, len(assess.TCPStates)),
		findings: make(map[findingKey]int, len(e.findings)), pollSeconds: took.Seconds(), taken: snap.Taken, missing: len(a.Missing), profile: a.Profile}
	for _, state := range assess.TCPStates { // every state a series, 0 included: rates need no gaps
		if state != sockets.StateListen {
			st.conns[state] = 0
		}
	}
	for state, n := range e.conns {
		if n != 0 {
			st.conns[state] = n
		}
	}
	for k, n := range e.findings {
		if n != 0 { // a code no socket carries any more has no series
			st.findings[k] = n
		}
	}
	for _, v := range a.Missing { // few, and made anew each poll
		for _, f := range v.Findings {
			st.findings[findingKey{f.Severity, f.Code}]++
		}
	}
	seen := map[listenerLabels]bool{}
	var ranked []rankedListener
	clear(e.priority)
	for i := range snap.Sockets {
		if !snap.Sockets[i].IsListening() {
			continue
		}
		v := a.Verdicts[i]
		s := &v.Socket
		l := listenerLabels{s.Netns, s.Proto.String(), s.Local.String(), strconv.Itoa(int(s.LPort)), "", s.OwnerUser(),
			expectedWords[v.Baseline.Status], string(v.FirewallKind())}
		if l[7] == "" {
			l[7] = "none"
		}
		if p := s.Process(); p != nil {
			l[4] = p.Name
		}
		if seen[l] { // SO_REUSEPORT: one place, several sockets
			continue
		}
		seen[l] = true
		switch v.Baseline.Status {
		case baseline.Unexpected:
			st.unexpected++
		case baseline.Changed:
			st.changed++
		}
		r := rankedListener{labels: l, rank: listenerRank(v)}
		if r.rank >= rankFirst {
			e.priority[l[4]] = true
		}
		ranked = append(ranked, r)
	}
	st.listeners, st.aggregated, st.capped = capListeners(ranked, e.maxListeners)
	e.capped.WithLabelValues("portwatch_listening").Set(float64(st.capped))
	e.state.Store(st)
}

// count adds a verdict's share of the counts (sign +1) or takes it out (-1).
func (e *exporter) count(v *assess.Verdict, sign int) {
	for _, f := range v.Findings {
		e.findings[findingKey{f.Severity, f.Code}] += sign
	}
	if !v.Socket.IsListening() {
		e.conns[v.Socket.State] += sign
	}
	name := "(unknown)" // as traffic names a socket without a known owner
	if p := v.Socket.Process(); p != nil {
		name = p.Name
	}
	if e.programs[name] += sign; e.programs[name] == 0 {
		delete(e.programs, name)
	}
}

// holds reports whether a program held a socket in the last poll.
func (e *exporter) holds(program string) bool { return e.programs[program] > 0 }

// writeTextfile writes the registry's metrics to path for node_exporter's
// textfile collector, atomically (safefile.WriteAtomic: a hidden temporary
// file in the same directory, which the collector's *.prom pattern skips,
// synced, then renamed over path). A reader, or a crash at any moment, sees
// the last whole file or the new whole file, never part of one; a link, a
// directory or another user's file at path is refused, never replaced.
func writeTextfile(path string, g prometheus.Gatherer) error {
	mfs, err := g.Gather()
	if err != nil {
		return err
	}
	// 0644: node_exporter often runs as a user of its own.
	return safefile.WriteAtomic(path, 0o644, func(w io.Writer) error {
		for _, mf := range mfs {
			if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
				return err
			}
		}
		return nil
	})
}

// textfileTempPrefix names writeTextfile's temporary files for path.
func textfileTempPrefix(path string) string { return safefile.TempPrefix(path) }

// prepareTextfile refuses, before the first poll, a --textfile path that
// could never be written (its directory missing; a directory, a link or
// another user's file in its place), and removes the temporary files a
// killed watch left (SIGKILL between making one and renaming it).
func prepareTextfile(path string) error {
	if err := safefile.CheckReplaceable(path); err != nil {
		return fmt.Errorf("--textfile %s: %w", path, err)
	}
	safefile.RemoveStaleTemps(path)
	return nil
}
