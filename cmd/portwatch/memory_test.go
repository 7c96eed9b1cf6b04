//go:build linux

package main

import (
	"runtime/debug"
	"testing"
)

// TestMemoryLimitLeavesRoomAboveTheLiveHeap: the soft limit never comes
// near the live heap (the collector would thrash) and never drops below
// the floor (small machines keep Go's usual pacing).
func TestMemoryLimitLeavesRoomAboveTheLiveHeap(t *testing.T) {
	for _, live := range []uint64{0, 1 << 20, 20 << 20, 40 << 20, 1 << 30} {
		got := memoryLimitFor(live)
		if got < memoryFloor {
			t.Errorf("live %d MiB: limit %d MiB under the floor", live>>20, got>>20)
		}
		if room := uint64(got) - live; room < live/4+memoryMargin {
			t.Errorf("live %d MiB: limit %d MiB leaves only %d MiB", live>>20, got>>20, room>>20)
		}
	}
	if got := memoryLimitFor(40 << 20); got != 58<<20 {
		t.Errorf("live 40 MiB: limit %d MiB, want 58", got>>20)
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
