//go:build linux

// Command heapbench holds what the monitor holds from poll to poll (the
// poll's collector, traffic tracker, assessor and events tracker, and the
// rows of tui/rowset) at the default interval, and reports what it costs
// in memory: the live heap after the polls, the bytes and objects a poll
// allocates, the collections, and the process's RSS. With -memprofile it
// writes a heap profile taken after a collection, with the rows still held
// (inuse_space: what lives from poll to poll; alloc_space: what the polls
// allocated; PATH.base is the same before the measured polls, for
// pprof -base).
//
// Usage: heapbench -polls 30 -memprofile /tmp/heap.pprof
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/portwatch/portwatch/sockets/collect"
	"github.com/portwatch/portwatch/sockets/poll"
	"github.com/portwatch/portwatch/tui/rowset"
)

func main() {
	polls := flag.Int("polls", 30, "polls to measure, -interval apart, after 3 that learn the machine")
	interval := flag.Duration("interval", time.Second, "time between polls")
	memprofile := flag.String("memprofile", "", "write a heap profile here after the polls")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the polls here")
	flag.Parse()
	if *memprofile != "" {
		runtime.MemProfileRate = 4096 // every structure of the poll's memory, not a sample of the big ones
	}
	if err := run(*polls, *interval, *memprofile, *cpuprofile); err != nil {
		fmt.Fprintln(os.Stderr, "heapbench:", err)
		os.Exit(1)
	}
}

func run(polls int, interval time.Duration, memprofile, cpuprofile string) error {
	p := poll.New(poll.Config{Source: collect.NewLive(), Interval: interval})
	store := rowset.NewStore()
	var took time.Duration
	once := func() error {
		start := time.Now()
		r, err := p.Poll(context.Background(), nil)
		if err != nil {
			return err
		}
		r.Release()
		store.ApplyFlows(r.Assessment.Verdicts, r.Traffic.Flows, r.At)
		took += time.Since(start)
		return nil
	}
	for range 3 {
		if err := once(); err != nil {
			return err
		}
		time.Sleep(interval)
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if memprofile != "" { // the learning polls' allocations, to subtract (pprof -base)
		runtime.GC() // a profile says what was true at the last collection
		if err := writeHeap(memprofile + ".base"); err != nil {
			return err
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	took = 0
	for range polls {
		if err := once(); err != nil {
			return err
		}
		time.Sleep(interval)
	}
	runtime.ReadMemStats(&after)
	rss := vmRSS()
	runtime.GC()
	var live runtime.MemStats
	runtime.ReadMemStats(&live)
	n := float64(polls)
	fmt.Printf("%d rows · %d polls %v apart · %.1f ms a poll (wall)\n", store.Len(), polls, interval, float64(took.Milliseconds())/n)
	fmt.Printf("  per poll: %.0f KiB and %.0f objects allocated · %d collections in all\n",
		float64(after.TotalAlloc-before.TotalAlloc)/1024/n, float64(after.Mallocs-before.Mallocs)/n, after.NumGC-before.NumGC)
	fmt.Printf("  live heap after a collection %.1f MiB · heap in use before it %.1f MiB · RSS %s\n",
		float64(live.HeapAlloc)/(1<<20), float64(after.HeapInuse)/(1<<20), rss)
	if memprofile != "" {
		if err := writeHeap(memprofile); err != nil {
			return err
		}
	}
	runtime.KeepAlive(store)
	runtime.KeepAlive(p)
	return nil
}

func writeHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.WriteHeapProfile(f)
}

// vmRSS is this process's resident set as /proc says it.
func vmRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
