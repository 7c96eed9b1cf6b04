//go:build linux

package main

import (
	"github.com/portwatch/portwatch/sockets/traffic"
	"github.com/prometheus/client_golang/prometheus"
)

// programBytes counts the bytes each program's TCP connections moved, from
// the poll's traffic (traffic.Poll.Moved, the kernel's per-connection
// counters stepped by the tracker): Prometheus counters that only ever
// grow, although connections come and go. Labelled by program only: its
// cardinality is the machine's programs, not its peers.
type programBytes struct {
	sent, received *prometheus.CounterVec
}

func newProgramBytes(r *prometheus.Registry) *programBytes {
	p := &programBytes{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portwatch_program_bytes_sent_total",
			Help: "Bytes the peers of each program's TCP connections acknowledged, from the kernel's counters."}, []string{"program"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portwatch_program_bytes_received_total",
			Help: "Bytes each program's TCP connections received, from the kernel's counters."}, []string{"program"}),
	}
	r.MustRegister(p.sent, p.received)
	return p
}

// observe adds one poll's movement by program.
func (p *programBytes) observe(moved map[string]traffic.Bytes) {
	for program, d := range moved {
		p.sent.WithLabelValues(program).Add(float64(d.Sent))
		p.received.WithLabelValues(program).Add(float64(d.Received))
	}
}
