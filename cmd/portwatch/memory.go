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
