package assess

import (
	"fmt"
	"slices"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// A scan seen in the kernel's own counters. A scan of closed ports leaves
// no socket behind (the kernel answers each probe with a reset), and a SYN
// scan's half-open connections last a round trip; but each namespace's
// TCP counters (sockets.TCPCounters) count both: resets sent, and
// connections in SYN_RECV reset by their client. A busy client of one
// open port moves neither.
const (
	// ResetScanThreshold is how many resets to connection attempts on
	// closed ports within CounterWindow make a scan.
	ResetScanThreshold = 20
	// HalfOpenThreshold is how many half-open connections reset by their
	// client within CounterWindow make a SYN scan: real clients almost
	// never do it even once.
	HalfOpenThreshold = 2
	// CounterWindow is the span the counters are compared over.
	CounterWindow = 10 * time.Second
	// ScanHold is how long a scan stays in the assessment after the
	// counters stopped rising, so that it can be read on screen.
	ScanHold = time.Minute
	// maxCounterSamples bounds the samples kept per namespace (at the
	// shortest interval, 100 ms, CounterWindow holds 100).
	maxCounterSamples = 128
)

// CodeScanCounters is the stable code of a scan seen in the counters.
const CodeScanCounters = "scan-counters"

// NetScan is a scan seen in a namespace's TCP counters.
type NetScan struct {
	Netns string `json:"netns"`
	// Resets counts the connection attempts on closed ports answered with a
	// reset since the scan began; HalfOpen the half-open connections reset
	// by their client (a SYN scan of open ports).
	Resets   uint64    `json:"resets"`
	HalfOpen uint64    `json:"half_open"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"` // when the counters last rose
	Risk     Risk      `json:"risk"`
	Code     string    `json:"code"`
	Text     string    `json:"text"`
}

type counterSample struct {
	at time.Time
	c  sockets.TCPCounters
}

// counterTrack is one namespace's recent counters and the scan they show.
type counterTrack struct {
	samples []counterSample // oldest first, the window and one before it
	scan    *NetScan
	base    sockets.TCPCounters // the counters when the scan began
}

// counterMemory keeps each namespace's counters between polls.
type counterMemory map[uint64]*counterTrack

// observe adds a snapshot's counters and returns the scans seen now or
// within ScanHold, by namespace label.
func (m counterMemory) observe(stats map[uint64]sockets.TCPCounters, at time.Time) []NetScan {
	var out []NetScan
	for ino, c := range stats {
		t := m[ino]
		if t == nil {
			t = &counterTrack{}
			m[ino] = t
		}
		if n := len(t.samples); n > 0 && (c.OutRsts < t.samples[n-1].c.OutRsts || c.EmbryonicRsts < t.samples[n-1].c.EmbryonicRsts) {
			t.samples, t.scan = t.samples[:0], nil // another namespace with a reused inode: start again
		}
		t.samples = append(t.samples, counterSample{at, c})
		for len(t.samples) > 2 && (at.Sub(t.samples[1].at) >= CounterWindow || len(t.samples) > maxCounterSamples) {
			t.samples = slices.Delete(t.samples, 0, 1)
		}
		if s := t.judge(at); s != nil {
			out = append(out, *s)
		}
	}
	for ino := range m {
		if _, ok := stats[ino]; !ok {
			delete(m, ino)
		}
	}
	slices.SortFunc(out, func(a, b NetScan) int { return a.First.Compare(b.First) })
	return out
}

// judge says whether the window shows a scan, starts or extends it, and
// returns it while it is held.
func (t *counterTrack) judge(at time.Time) *NetScan {
	n := len(t.samples)
	oldest, newest := t.samples[0].c, t.samples[n-1].c
	resets, halfOpen := newest.OutRsts-oldest.OutRsts, newest.EmbryonicRsts-oldest.EmbryonicRsts
	rising := n >= 2 && (newest.OutRsts > t.samples[n-2].c.OutRsts || newest.EmbryonicRsts > t.samples[n-2].c.EmbryonicRsts)
	switch {
	case t.scan == nil && (resets >= ResetScanThreshold || halfOpen >= HalfOpenThreshold):
		t.scan = &NetScan{Netns: newest.Netns, First: t.samples[0].at, Last: at, Risk: RiskMedium, Code: CodeScanCounters}
		t.base = oldest
	case t.scan != nil && rising:
		t.scan.Last = at
	case t.scan != nil && at.Sub(t.scan.Last) > ScanHold:
		t.scan = nil
	}
	if t.scan == nil {
		return nil
	}
	s := t.scan
	s.Resets, s.HalfOpen = newest.OutRsts-t.base.OutRsts, newest.EmbryonicRsts-t.base.EmbryonicRsts
	s.Text = scanText(s)
	return s
}

// scanText says what the counters saw, in words.
func scanText(s *NetScan) string {
	over := s.Last.Sub(s.First).Round(time.Second)
	what := fmt.Sprintf("%d connection %s to closed ports %s answered with a reset", s.Resets, pluralOf(int(s.Resets), "attempt", "attempts"), pluralOf(int(s.Resets), "was", "were"))
	kind := "a port scan"
	if s.HalfOpen >= HalfOpenThreshold {
		what += fmt.Sprintf(", and %d half-open %s reset by the client", s.HalfOpen, pluralOf(int(s.HalfOpen), "connection was", "connections were"))
		kind = "a SYN scan (nmap -sS: it resets each half-open connection of an open port)"
	}
	return fmt.Sprintf("%s within %s: %s. A scan of closed ports leaves no socket to see; the namespace's own TCP counters (/proc/net/snmp, /proc/net/netstat) count it. Find out who scans, and what the firewall let through.",
		what, max(over, time.Second), kind)
}
