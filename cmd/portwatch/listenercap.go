//go:build linux

package main

import (
	"cmp"
	"slices"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
)

// rankedListener is a listener's labels and how early it keeps a series of
// its own when there are more listeners than the cap.
type rankedListener struct {
	labels listenerLabels
	rank   int
}

// rankFirst and above are the listeners an alert is about: a program
// holding one of them also keeps its byte counters first.
const rankFirst = 16

// listenerRank orders the listeners for the cap, highest first: a backdoor
// must never be the one aggregated away behind thousands of decoys. HIGH
// risk first, then UNEXPECTED or CHANGED against the baseline, then any
// reachable from outside; among equals, the one with more findings (a
// backdoor's port, a shell, a binary in /tmp each add one, which a decoy
// does not have unless it is as suspicious itself).
func listenerRank(v *assess.Verdict) int {
	r := min(len(v.Findings), 7)
	if v.Risk == assess.RiskHigh {
		r += 16
	}
	if v.Baseline.Status == baseline.Unexpected || v.Baseline.Status == baseline.Changed {
		r += 16
	}
	if v.Socket.Exposure() != sockets.ExposureLoopback {
		r += 8
	}
	return r
}

// capListeners keeps at most max listeners' series, ranked first, and
// counts the rest by (expected, firewall): 4 x 7 series at most. Within a
// rank the order is the labels' own (port first), so the same listeners
// keep their series from poll to poll.
func capListeners(ls []rankedListener, max int) (kept []listenerLabels, aggregated map[[2]string]int, capped int) {
	if len(ls) > max {
		slices.SortFunc(ls, func(a, b rankedListener) int {
			if c := cmp.Compare(b.rank, a.rank); c != 0 {
				return c
			}
			if c := cmp.Compare(len(a.labels[3]), len(b.labels[3])); c != 0 { // numeric order of ports
				return c
			}
			if c := slices.Compare(a.labels[3:], b.labels[3:]); c != 0 { // port, program, user, expected, firewall
				return c
			}
			return slices.Compare(a.labels[:3], b.labels[:3])
		})
		aggregated = map[[2]string]int{}
		for _, l := range ls[max:] {
			aggregated[[2]string{l.labels[6], l.labels[7]}]++
		}
		capped, ls = len(ls)-max, ls[:max]
	}
	kept = make([]listenerLabels, len(ls))
	for i, l := range ls {
		kept[i] = l.labels
	}
	return kept, aggregated, capped
}
