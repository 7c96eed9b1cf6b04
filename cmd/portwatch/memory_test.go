package main

import "testing"

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
