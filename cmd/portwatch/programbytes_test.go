//go:build linux

package main

import (
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets/traffic"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The per-program counters add each poll's movement (traffic's Poll.Moved,
// tested there) and only grow.
func TestProgramBytesOnlyGrow(t *testing.T) {
	r := prometheus.NewRegistry()
	p := newProgramBytes(r, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "capped"}, []string{"metric"}))
	holds := func(string) bool { return true }
	now := time.Now()
	p.observe(map[string]traffic.Bytes{"curl": {Sent: 150, Received: 1000}, "nginx": {Sent: 7, Received: 9}}, holds, holds, now)
	p.observe(nil, holds, holds, now)
	p.observe(map[string]traffic.Bytes{"curl": {Sent: 60, Received: 500}}, holds, holds, now)
	if s, rc := testutil.ToFloat64(p.sent.WithLabelValues("curl")), testutil.ToFloat64(p.received.WithLabelValues("curl")); s != 210 || rc != 1500 {
		t.Errorf("curl: sent %v received %v, want 210 1500", s, rc)
	}
	if n, err := testutil.GatherAndCount(r, "portwatch_program_bytes_sent_total", "portwatch_program_bytes_received_total"); err != nil || n != 4 {
		t.Errorf("%d series registered (%v), want curl and nginx each way", n, err)
	}
}
