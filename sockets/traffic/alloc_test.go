package traffic

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// A quiet poll, with counters that did not change or without counters,
// allocates nothing in the tracker at any number of connections: the
// arrays it hands out are refilled every other poll, its scratch is kept
// (once a new array of flows and one of healths every poll, a list and two
// maps for the listeners' sums).
func TestQuietObserveAllocatesNothing(t *testing.T) {
	for _, n := range []int{2000, 20000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			snap := benchSnapshot(n)
			snap.Sockets[len(snap.Sockets)-1].Traffic.SendQueue = 10 // one connection stuck: a health array
			tr := NewTracker()
			tr.Observe(snap)
			at := snap.Taken
			counted := func() {
				at = at.Add(time.Second)
				snap.Taken = at
				tr.Observe(snap)
			}
			for range 8 { // both buffers grown, the stuck one's health set
				counted()
			}
			if allocs := testing.AllocsPerRun(10, counted); allocs != 0 {
				t.Errorf("a quiet poll with counters: %.0f allocations, want 0", allocs)
			}
			p := tr.Observe(snap)
			if p.Health == nil || p.Health[len(snap.Sockets)-1]&sockets.HealthSendStuck == 0 {
				t.Fatal("the stuck connection's health is not in the poll")
			}
			without := *snap
			without.Sockets = append([]sockets.Socket(nil), snap.Sockets...)
			for i := range without.Sockets {
				without.Sockets[i].Traffic = nil
			}
			carried := func() {
				without.Taken = at.Add(time.Second)
				tr.Observe(&without)
			}
			carried()
			carried()
			if allocs := testing.AllocsPerRun(10, carried); allocs != 0 {
				t.Errorf("a poll without counters: %.0f allocations, want 0", allocs)
			}
		})
	}
}

// A poll's flows stay as they were while the next poll is made: the UI
// reads one poll's while the poll goroutine makes the next (run with
// -race).
func TestAPollsFlowsStayWhileTheNextIsMade(t *testing.T) {
	snap := benchSnapshot(2000)
	tr := NewTracker()
	at := snap.Taken
	next := func(move bool) *Poll {
		at = at.Add(time.Second)
		s := *snap
		s.Taken = at
		s.Sockets = append([]sockets.Socket(nil), snap.Sockets...)
		for i := range s.Sockets {
			if c := s.Sockets[i].Traffic; c != nil && move && i%3 == 0 {
				moved := *c
				moved.BytesSent += uint64(at.Unix() % 1000)
				s.Sockets[i].Traffic = &moved
			}
		}
		snap = &s
		return tr.Observe(&s)
	}
	held := next(false)
	for round := range 6 {
		want := append([]*Flow(nil), held.Flows...)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // the UI, reading the last poll
			defer wg.Done()
			for range 3 {
				for i, f := range held.Flows {
					if f != want[i] {
						t.Errorf("round %d: socket %d's flow changed under its reader", round, i)
						return
					}
					if f != nil {
						_ = f.In + f.Out
					}
				}
			}
		}()
		p := next(round%2 == 0) // the poll goroutine, meanwhile
		wg.Wait()
		held = p
	}
}
