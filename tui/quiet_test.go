package tui

import (
	"runtime"
	"testing"
	"time"
)

// perRun is what one call of f allocates, on average over runs calls
// after a first one: objects and bytes (runtime.MemStats, exact, unlike a
// profile's samples).
func perRun(runs int, f func()) (objects, bytes float64) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	f()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / float64(runs), float64(after.TotalAlloc-before.TotalAlloc) / float64(runs)
}

// quietCost is what the UI goroutine allocates for a quiet second at n
// connections on the All-states tab: the tick, the poll's reply through
// Update, and a frame (View) after each. The polls run first, through the
// model's own poller, so that their verdicts are the ones the store holds
// (a quiet poll hands back the same verdicts) and their work is not
// counted.
func quietCost(t *testing.T, n int) (update, updateBytes, view, viewBytes float64) {
	t.Helper()
	const runs = 8
	hs := newHarness(t, 120, 40, bigSnapshot(n))
	hs.send(tickMsg{})
	hs.keys("3")
	hs.poll() // a second poll: nothing is new any more
	msgs := make([]snapshotMsg, runs+1)
	for i := range msgs {
		hs.clock.Advance(time.Second)
		msgs[i] = hs.m.poller.pollCmd(hs.m.seq, nil)().(snapshotMsg)
	}
	if len(hs.rows()) < n {
		t.Fatalf("set-up: %d rows on the All-states tab, want at least %d", len(hs.rows()), n)
	}
	i := 0
	update, updateBytes = perRun(runs, func() {
		m, _ := hs.m.Update(tickMsg{})
		hs.m = m.(Model)
		hs.m.polling = false // the poll it asked for is msgs[i]
		m, _ = hs.m.Update(msgs[i])
		hs.m = m.(Model)
		i++
	})
	view, viewBytes = perRun(runs, func() { _ = hs.m.View() })
	return update, updateBytes, view, viewBytes
}

// TestQuietSecondAllocatesLittle: a quiet second on the UI goroutine (a
// tick, a poll's reply, the frames) allocates what does not grow with the
// sockets, and little of it. Update allocated 150 KB a quiet second, for
// the copies of the model (23 KB each, two or three a message).
func TestQuietSecondAllocatesLittle(t *testing.T) {
	u1, ub1, v1, vb1 := quietCost(t, 1000)
	u2, ub2, v2, vb2 := quietCost(t, 20000)
	t.Logf("1,000 connections: update %.0f objects %.0f bytes, view %.0f objects %.0f bytes", u1, ub1, v1, vb1)
	t.Logf("20,000 connections: update %.0f objects %.0f bytes, view %.0f objects %.0f bytes", u2, ub2, v2, vb2)
	// A few objects of slack: the race detector's runtime allocates some.
	if u2 > u1+16 || ub2 > ub1+4096 {
		t.Errorf("a quiet poll's Update allocates more with more sockets: %.0f objects, %.0f bytes at 20,000 against %.0f, %.0f at 1,000", u2, ub2, u1, ub1)
	}
	if ub2 > maxQuietUpdateBytes {
		t.Errorf("a quiet second's Update allocates %.0f bytes, want at most %d", ub2, maxQuietUpdateBytes)
	}
	if v2 > v1+16 || vb2 > vb1+4096 {
		t.Errorf("a frame allocates more with more sockets: %.0f objects, %.0f bytes at 20,000 against %.0f, %.0f at 1,000", v2, vb2, v1, vb1)
	}
}

// maxQuietUpdateBytes bounds a quiet second's Update (a tick and a poll's
// reply): the model's copy for each (2.3 KB), the commands, the header
// counted for the layout.
const maxQuietUpdateBytes = 24 << 10
