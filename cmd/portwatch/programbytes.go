//go:build linux

package main

import (
	"time"

	"github.com/portwatch/portwatch/sockets/traffic"
	"github.com/prometheus/client_golang/prometheus"
)

// The bounds of the per-program counters. A program's name is a local
// user's to choose, as many as they like: past maxProgramSeries programs
// the bytes go to program="(other)"; the last programReserve places are
// kept for programs holding a listener an alert is about (rankFirst), so a
// backdoor's traffic keeps a series of its own. A program that holds no
// socket any more loses its series after programGrace, long enough for
// rate() over the usual windows to see its last bytes.
const (
	maxProgramSeries = 200
	programReserve   = 50
	programGrace     = 10 * time.Minute
	otherPrograms    = "(other)"
)

// programBytes counts the bytes each program's TCP connections moved, from
// the poll's traffic (traffic.Poll.Moved, the kernel's per-connection
// counters stepped by the tracker): Prometheus counters that only ever
// grow, although connections come and go. Labelled by program only: its
// cardinality is the machine's programs, not its peers, and capped.
type programBytes struct {
	sent, received *prometheus.CounterVec
	// last is when each program with a series last held a socket or moved
	// bytes; folded the same for the programs past the cap.
	last, folded map[string]time.Time

	max, reserve int
	grace        time.Duration
	capped       prometheus.Gauge // the programs folded into (other)
}

func newProgramBytes(r *prometheus.Registry, capped *prometheus.GaugeVec) *programBytes {
	p := &programBytes{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portwatch_program_bytes_sent_total",
			Help: "Bytes the peers of each program's TCP connections acknowledged, from the kernel's counters; (other) past the cap on programs."}, []string{"program"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portwatch_program_bytes_received_total",
			Help: "Bytes each program's TCP connections received, from the kernel's counters; (other) past the cap on programs."}, []string{"program"}),
		last: map[string]time.Time{}, folded: map[string]time.Time{},
		max: maxProgramSeries, reserve: programReserve, grace: programGrace,
	}
	p.capped = capped.WithLabelValues("portwatch_program_bytes")
	r.MustRegister(p.sent, p.received)
	return p
}

// observe adds one poll's movement by program, at now. holds says whether
// a program holds a socket now; priority whether it holds a listener an
// alert is about.
func (p *programBytes) observe(moved map[string]traffic.Bytes, holds, priority func(string) bool, now time.Time) {
	for program, d := range moved {
		label := program
		if _, ok := p.last[program]; !ok && !p.admit(program, priority) {
			p.folded[program] = now
			label = otherPrograms
		} else {
			p.last[program] = now
			delete(p.folded, program) // a place came free
		}
		p.sent.WithLabelValues(label).Add(float64(d.Sent))
		p.received.WithLabelValues(label).Add(float64(d.Received))
	}
	for program, at := range p.last {
		switch {
		case holds(program):
			p.last[program] = now
		case now.Sub(at) >= p.grace: // gone: its series goes too
			delete(p.last, program)
			p.sent.DeleteLabelValues(program)
			p.received.DeleteLabelValues(program)
		}
	}
	for program, at := range p.folded {
		switch {
		case holds(program):
			p.folded[program] = now
		case now.Sub(at) >= p.grace:
			delete(p.folded, program)
		}
	}
	p.capped.Set(float64(len(p.folded)))
	if len(p.folded) == 0 { // (other) stays while it stands for programs still around
		p.sent.DeleteLabelValues(otherPrograms)
		p.received.DeleteLabelValues(otherPrograms)
	}
}

// admit reports whether a program new to the counters gets a series of its
// own, and takes its place.
func (p *programBytes) admit(program string, priority func(string) bool) bool {
	limit := p.max - p.reserve
	if priority(program) {
		limit = p.max
	}
	return len(p.last) < limit
}
