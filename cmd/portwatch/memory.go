//go:build linux

package main

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The monitor's collector is paced by how fast it allocates, not by a
// fixed share of the live heap.
const (
	// gcEvery sets the heap's room: what the monitor allocates in this
	// time. The pacer starts a collection before the heap fills it, so
	// they come somewhat more often: at 10,000 connections (0.85 MB
	// allocated a second, 26 MB live) every 3 s, 4 ms of CPU a second,
	// against every 1.3 s and 11 ms a second with the soft limit.
	gcEvery = 5 * time.Second
	// minRoom is the least the heap may grow, however quiet the monitor.
	minRoom = 4 << 20
	// The growth allowed, as GOGC: never more than Go's usual doubling
	// (100; a small heap keeps Go's usual pacing), never less than a tenth
	// (the collector would run for every poll).
	maxGCPercent, minGCPercent = 100, 10
	// rateWindow is how many seconds the allocation rate is averaged over:
	// a poll allocates in a burst, once per --interval.
	rateWindow = 10
)

// boundMemory keeps the monitor's memory close to what it really uses. Go
// lets the heap grow to twice its live data before collecting, which at
// 60,000 sockets is 50 MB held for nothing. Every second the heap's room
// to grow (GOGC) is set to what the monitor allocates in gcEvery,
// averaged over rateWindow seconds. At 10,000 connections the old rule,
// a soft limit at the live heap plus a quarter and 8 MiB, left the heap
// 2-3 MB of room once the runtime's own memory was counted, and the
// collector ran every 1.3 s, 15 ms each: a fifth of the monitor's CPU, for
// 2-3 MiB less RSS than this (bench/README.md). GOGC or GOMEMLIMIT, if
// set, win.
func boundMemory(stop <-chan struct{}) {
	if os.Getenv("GOMEMLIMIT") != "" || os.Getenv("GOGC") != "" {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	var allocs [rateWindow + 1]uint64 // the last seconds' allocation totals, a ring
	// Until a window's worth of seconds is seen (the first polls allocate
	// most), the heap may grow by half, as watch's.
	seen, percent := 0, watchGCPercent
	debug.SetGCPercent(percent)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 || sample[1].Value.Kind() != metrics.KindUint64 {
			return // an older runtime without these metrics
		}
		allocs[seen%len(allocs)] = sample[1].Value.Uint64()
		seen++
		if seen < len(allocs) {
			continue
		}
		newest, oldest := allocs[(seen-1)%len(allocs)], allocs[seen%len(allocs)]
		want := gcPercentFor(sample[0].Value.Uint64(), (newest-oldest)/rateWindow)
		// Setting it stops the world for a moment: only for a real change.
		if want < percent*9/10 || want > percent*11/10 {
			debug.SetGCPercent(want)
			percent = want
		}
	}
}

// gcPercentFor is the GOGC that lets a live heap of live bytes grow by what
// perSecond bytes a second allocate in gcEvery (at least minRoom), within
// minGCPercent and maxGCPercent.
func gcPercentFor(live, perSecond uint64) int {
	room := max(perSecond*uint64(gcEvery/time.Second), minRoom)
	return int(min(max(room*100/max(live, 1), minGCPercent), maxGCPercent))
}

// tuneWatchGC sets portwatch watch's garbage collection: the heap may grow
// to one and a half times the live data (GOGC=50), with no soft limit
// following the live heap as the monitor's once had. Measured at 10,000
// connections (bench/README.md), that limit (live plus a quarter) made the
// collector run about three times a poll (81 collections in 25 s, against
// 35 with this) and cost watch a quarter to a third more CPU, for 5 to 10
// MiB less memory: a service that runs beside what it watches for months
// saves the CPU. GOGC and GOMEMLIMIT, if set, win (the systemd unit sets
// GOMEMLIMIT under its MemoryMax).
func tuneWatchGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(watchGCPercent)
	}
}

const watchGCPercent = 50
