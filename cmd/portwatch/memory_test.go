//go:build linux

package main

import (
	"runtime/debug"
	"testing"
	"time"
)

// TestGCRoomFollowsTheAllocationRate: the heap may grow by what the
// monitor allocates in gcEvery, so that the collector runs about that
// often; a quiet monitor keeps little room, a small heap Go's usual
// pacing, and the room is never below a tenth of the live heap. At 10,000
// connections (24 MB live, 1.2 MB allocated a second) the old soft limit,
// live + 25% + 8 MiB, left the heap 3 MB of room beside the runtime's own
// memory: a collection every 2 s, 19 ms each.
func TestGCRoomFollowsTheAllocationRate(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		live, perSecond uint64
		want            int
	}{
		{24 * mb, 1200 * 1024, 24}, // 10,000 connections now: 6 MB of room, a collection every 5 s
		{24 * mb, 300 * 1024, 16},  // a quieter poll: the 4 MiB floor
		{24 * mb, 0, 16},           // idle
		{80 * mb, 4 * mb, 25},      // 30,000 connections
		{400 * mb, 1 * mb, 10},     // a huge table: never below a tenth
		{2 * mb, 100 * 1024, 100},  // a small machine: Go's usual pacing
		{0, 0, 100},                // no heap yet
		{24 * mb, 40 * mb, 100},    // a burst: at most Go's usual doubling
	} {
		if got := gcPercentFor(c.live, c.perSecond); got != c.want {
			t.Errorf("live %d MiB, %d KiB/s: GOGC %d, want %d", c.live/mb, c.perSecond/1024, got, c.want)
		}
	}
}

// TestMonitorGCLeavesGOGCAlone: with GOGC (or GOMEMLIMIT) set, the
// monitor's pacing leaves the collector as they say.
func TestMonitorGCLeavesGOGCAlone(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(77))
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "200")
			done := make(chan struct{})
			go func() { boundMemory(nil); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("with %s set, the monitor paces the collector", env)
			}
			if got := debug.SetGCPercent(77); got != 77 {
				t.Errorf("with %s set, GOGC became %d", env, got)
			}
		})
	}
}

// TestWatchGC: watch collects at GOGC=50 unless GOGC says otherwise.
func TestWatchGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	tuneWatchGC()
	if got := debug.SetGCPercent(100); got != watchGCPercent {
		t.Errorf("GOGC %d, want %d", got, watchGCPercent)
	}
	t.Setenv("GOGC", "200")
	tuneWatchGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, watch changed the collector to %d", got)
	}
}
