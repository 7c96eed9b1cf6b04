//go:build linux

package main

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Bounds of the monitor's soft memory limit.
const (
	memoryFloor  = 32 << 20 // below this, Go's usual pacing is left alone
	memoryMargin = 8 << 20  // room for stacks, buffers and the poll in flight
)

// boundMemory keeps the monitor's memory close to what it really uses. Go
// lets the heap grow to twice its live data before collecting, which at
// 60,000 sockets is 50 MB held for nothing. Every second the soft
// limit is set to the live heap plus a quarter and a margin: the collector
// then runs a little more often on a busy server, and never thrashes, as
// the limit always leaves room above the live heap. GOMEMLIMIT, if set,
// wins.
func boundMemory(stop <-chan struct{}) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return // an older runtime without this metric
		}
		debug.SetMemoryLimit(memoryLimitFor(sample[0].Value.Uint64()))
	}
}

// memoryLimitFor is the soft limit for a live heap of live bytes.
func memoryLimitFor(live uint64) int64 {
	return int64(max(memoryFloor, live+live/4+memoryMargin))
}

// tuneWatchGC sets portwatch watch's garbage collection: the heap may grow
// to one and a half times the live data (GOGC=50), with no soft limit
// following the live heap as the monitor's. Measured at 10,000 connections
// (bench/README.md), the monitor's limit (live plus a quarter) made the
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
