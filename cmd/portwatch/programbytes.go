//go:build linux

package main

import (
	"github.com/portwatch/portwatch/sockets"
	"github.com/prometheus/client_golang/prometheus"
)

// programBytes counts the bytes each program's TCP connections moved, from
// the kernel's per-connection counters: Prometheus counters that only ever
// grow, although connections come and go. Each poll adds what every
// connection moved since the last (all of it for a connection not seen
// before), so a connection that closes keeps what it added. Labelled by
// program only: its cardinality is the machine's programs, not its peers.
type programBytes struct {
	sent, received *prometheus.CounterVec
	last           map[uint64]moved // by inode, the connections of the last poll with counters
	quiet          int              // polls with counters since bytes last moved
}

type moved struct{ sent, received uint64 }

func newProgramBytes(r *prometheus.Registry) *programBytes {
	p := &programBytes{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portwatch_program_bytes_sent_total",
			Help: "Bytes the peers of each program's TCP connections acknowledged, from the kernel's counters."}, []string{"program"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portwatch_program_bytes_received_total",
			Help: "Bytes each program's TCP connections received, from the kernel's counters."}, []string{"program"}),
		last: map[uint64]moved{},
	}
	r.MustRegister(p.sent, p.received)
	return p
}

// observe adds a snapshot's movement. A snapshot taken without the
// counters (snap.Counters false) adds nothing and forgets nothing.
func (p *programBytes) observe(snap *sockets.Snapshot) {
	if !snap.Counters {
		return
	}
	now := make(map[uint64]moved, len(p.last))
	any := false
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		t := s.Traffic
		if t == nil || s.Inode == 0 || s.IsListening() {
			continue
		}
		cur := moved{t.BytesSent, t.BytesReceived}
		now[s.Inode] = cur
		prev, seen := p.last[s.Inode]
		if seen && (cur.sent < prev.sent || cur.received < prev.received) {
			seen = false // the inode was reused: a new connection
		}
		if !seen {
			prev = moved{}
		}
		if d := (moved{cur.sent - prev.sent, cur.received - prev.received}); d != (moved{}) {
			program := "(unknown)"
			if owner := s.Process(); owner != nil {
				program = owner.Name
			}
			p.sent.WithLabelValues(program).Add(float64(d.sent))
			p.received.WithLabelValues(program).Add(float64(d.received))
			any = true
		}
	}
	p.last = now
	if any {
		p.quiet = 0
	} else {
		p.quiet++
	}
}

// wantCounters says whether the next poll should ask the kernel for the
// counters: every poll while bytes move, every third when nothing does
// (asking makes the dump half as dear again; what moved in between is
// counted at the next ask, nothing is lost).
func (p *programBytes) wantCounters(polls int) bool { return p.quiet < 2 || polls%3 == 0 }
