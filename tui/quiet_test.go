package tui

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/tui/rowset"
)

// perRunAfter is what one call of f allocates, on average over runs
// calls after a first one (runtime.MemStats, exact, unlike a profile's
// samples), each call after a call of prepare, whose allocations are
// not counted.
func perRunAfter(runs int, prepare, f func()) (objects, bytes float64) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	prepare()
	f()
	var mallocs, total uint64
	for range runs {
		prepare()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		mallocs += after.Mallocs - before.Mallocs
		total += after.TotalAlloc - before.TotalAlloc
	}
	return float64(mallocs) / float64(runs), float64(total) / float64(runs)
}

// quietHarness is a monitor at n connections on the All-states tab, past
// its first polls, and the replies of the next polls, made through the
// model's own poller, so that their verdicts are the ones the store
// holds (a quiet poll hands back the same verdicts).
func quietHarness(t *testing.T, n, polls int, of ...func(*sockets.Snapshot) *sockets.Snapshot) (*harness, []snapshotMsg) {
	t.Helper()
	hs := quietMonitor(t, n, of...)
	msgs := make([]snapshotMsg, polls)
	for i := range msgs {
		msgs[i] = hs.nextReply()
	}
	return hs, msgs
}

// quietMonitor is quietHarness's monitor alone.
func quietMonitor(t *testing.T, n int, of ...func(*sockets.Snapshot) *sockets.Snapshot) *harness {
	t.Helper()
	snap := bigSnapshot(n)
	for _, f := range of {
		snap = f(snap)
	}
	hs := newHarness(t, 120, 40, snap)
	hs.send(tickMsg{})
	hs.keys("3")
	hs.poll() // a second poll: nothing is new any more
	// Rows minutes old, as on a server that has run a while: their AGE
	// reads alike for a minute (a row seconds old is drawn again each
	// second, its age changed).
	hs.clock.Advance(2 * time.Minute)
	hs.poll()
	if len(hs.rows()) < n {
		t.Fatalf("set-up: %d rows on the All-states tab, want at least %d", len(hs.rows()), n)
	}
	return hs
}

// nextReply runs the next poll, a second later, off the model: its work
// is not the UI goroutine's.
func (hs *harness) nextReply() snapshotMsg {
	hs.clock.Advance(time.Second)
	return hs.m.poller.pollCmd(hs.m.seq, nil)().(snapshotMsg)
}

// quietSecond is what the UI goroutine allocates for a quiet second at n
// connections: the tick and its frame, the poll's reply and its frame.
// Each reply is made just before it is applied, as the monitor's are: a
// poll's arrays are refilled by the polls after it (Assessor.Recycle, the
// traffic tracker's two buffers), so replies made ahead would be stale.
func quietSecond(t *testing.T, n int, of ...func(*sockets.Snapshot) *sockets.Snapshot) (objects, bytes float64) {
	t.Helper()
	const runs = 8
	hs := quietMonitor(t, n, of...)
	var msg snapshotMsg
	return perRunAfter(runs, func() { msg = hs.nextReply() }, func() {
		m, _ := hs.m.Update(tickMsg{})
		hs.m = m.(Model)
		_ = hs.m.View()
		hs.m.polling = false // the poll it asked for is msg
		m, _ = hs.m.Update(msg)
		hs.m = m.(Model)
		_ = hs.m.View()
	})
}

// TestQuietSecondAllocatesLittle: a quiet second on the UI goroutine (a
// tick, a poll's reply, a frame after each) allocates what does not grow
// with the sockets, and little of it. It was 246 KB at 120x40: 154 KB for
// the copies of the model (23 KB each, two or three a message), 92 KB for
// two frames, each drawing every row on screen again.
func TestQuietSecondAllocatesLittle(t *testing.T) {
	o1, b1 := quietSecond(t, 1000)
	o2, b2 := quietSecond(t, 20000)
	t.Logf("a quiet second allocates %.0f objects, %.0f bytes at 1,000 connections; %.0f, %.0f at 20,000", o1, b1, o2, b2)
	// A few objects of slack: the race detector's runtime allocates some.
	if o2 > o1+16 || b2 > b1+4096 {
		t.Errorf("a quiet second allocates more with more sockets: %.0f objects, %.0f bytes at 20,000 against %.0f, %.0f at 1,000", o2, b2, o1, b1)
	}
	if b2 > maxQuietSecondBytes {
		t.Errorf("a quiet second allocates %.0f bytes, want at most %d", b2, maxQuietSecondBytes)
	}
}

// maxQuietSecondBytes bounds a quiet second on the UI goroutine at 120x40:
// the copy of the model each message returns (2.3 KB), the commands, one
// frame (the header, the detail pane and the screen's string; the rows
// are the last frame's).
const maxQuietSecondBytes = 64 << 10 // 45 KB measured (51 under -race)

// TestUnchangedFrameAllocatesNothing: a frame of a model that nothing
// changed since the last, and the frame after a tick that starts a poll
// (the reply moves the clock), are the last frame, not drawn again.
func TestUnchangedFrameAllocatesNothing(t *testing.T) {
	hs, _ := quietHarness(t, 1000, 0)
	before := hs.m.View()
	if n := testing.AllocsPerRun(10, func() { _ = hs.m.View() }); n != 0 {
		t.Errorf("a frame of an unchanged model allocates %.0f objects", n)
	}
	m, _ := hs.m.Update(tickMsg{})
	hs.m = m.(Model)
	if !hs.m.polling {
		t.Fatal("set-up: the tick started no poll")
	}
	if n := testing.AllocsPerRun(10, func() { _ = hs.m.View() }); n != 0 {
		t.Errorf("the frame after a tick that starts a poll allocates %.0f objects", n)
	}
	if after := hs.m.View(); after != before {
		t.Errorf("the tick that starts a poll changed the screen:\n%s\n---\n%s", before, after)
	}
}

// TestQuietFrameFormatsNoRow: after a quiet poll the frame formats no row
// again; after a poll in which one row on screen changed, that row (and
// any row its move brings on screen), not the forty others; and each frame
// is the one drawn afresh.
func TestQuietFrameFormatsNoRow(t *testing.T) {
	hs, msgs := quietHarness(t, 1000, 1)
	_ = hs.m.View()
	drawn := hs.m.table.lines.drawn
	m, _ := hs.m.Update(msgs[0])
	hs.m = m.(Model)
	screen := hs.m.View()
	if hs.m.table.lines.drawn != drawn {
		t.Errorf("a quiet poll's frame formatted %d rows again", hs.m.table.lines.drawn-drawn)
	}
	if fresh := drawnAfresh(hs.m); screen != fresh {
		t.Errorf("the frame differs from one drawn afresh:\n%s\n---\n%s", screen, fresh)
	}
	// The first established connection on screen closes its side.
	var row *rowset.Row
	for _, r := range hs.rows()[:20] {
		if r.Socket.State == "ESTABLISHED" && row == nil {
			row = r
		}
	}
	if row == nil {
		t.Fatal("set-up: no established connection on screen")
	}
	changed := *hs.src.snaps[0]
	changed.Sockets = slices.Clone(changed.Sockets)
	for i := range changed.Sockets {
		if s := &changed.Sockets[i]; s.Inode == row.Socket.Inode {
			s.State = closeWait
		}
	}
	hs.src.snaps = []*sockets.Snapshot{&changed}
	drawn = hs.m.table.lines.drawn
	hs.poll()
	screen = hs.m.View()
	if n := hs.m.table.lines.drawn - drawn; n < 1 || n > 2 {
		t.Errorf("a poll that changed one row on screen formatted %d rows, want 1 (2 if it moved off screen)", n)
	}
	if r := hs.m.store.Get(row.Key()); r == nil || r.Socket.State != closeWait {
		t.Fatalf("set-up: the row did not change")
	}
	if fresh := drawnAfresh(hs.m); screen != fresh {
		t.Errorf("the frame differs from one drawn afresh:\n%s\n---\n%s", screen, fresh)
	}
}

// drawnAfresh is m's screen drawn without the last frame's lines.
func drawnAfresh(m Model) string {
	m.table.lines = newRowLines()
	return m.draw()
}

const closeWait = "CLOSE_WAIT"

// TestMovingRowsAreDrawnAgain: a row whose bytes moved is drawn again with
// its new rates (its verdict is the same: only its flow is new), and a row
// idle since the last frame is the last frame's line; each frame is the
// one drawn afresh.
func TestMovingRowsAreDrawnAgain(t *testing.T) {
	base := bigSnapshot(200)
	var snaps []*sockets.Snapshot
	for i, step := range []uint64{0, 3, 3, 0, 0, 9} { // moving, steady, idle, faster
		snaps = append(snaps, withCounters(base, time.Duration(i)*time.Second, step))
	}
	hs := newHarness(t, 120, 40, snaps...)
	hs.send(tickMsg{})
	hs.keys("2")
	screens := map[string]bool{}
	for range len(snaps) - 1 {
		hs.poll()
		screen := hs.m.View()
		if fresh := drawnAfresh(hs.m); screen != fresh {
			t.Fatalf("the frame differs from one drawn afresh:\n%s\n---\n%s", screen, fresh)
		}
		screens[screen] = true
	}
	if len(screens) < 3 {
		t.Errorf("set-up: the rates drew %d screens, want 3 at least", len(screens))
	}
}

// TestChromeHeightCountsTheDrawnLines: the chrome's height, which every
// message asks for without drawing the header and the status line, is the
// number of lines they draw: with the warnings, the baseline's question
// and the kill dialog's, at every width.
func TestChromeHeightCountsTheDrawnLines(t *testing.T) {
	snap := snapAt(t0, fixtureSockets())
	snap.Root, snap.Hidden, snap.NetnsSkipped = false, 3, 1 // a warning, wrapped at narrow widths
	for w := 1; w <= 200; w += 7 {
		hs := started(t, w, 30, snap)
		cfg := hs.m.cfg
		cfg.BaselinePath = "/etc/portwatch/a-rather-long-directory-name/baseline.conf"
		hs.m = New(cfg)
		hs.send(windowSize(w, 30))
		hs.send(tickMsg{})
		check := func(state string) {
			t.Helper()
			drawn := len(hs.m.headerLines()) + 1 + len(hs.m.statusLines()) + 1
			if got := hs.m.chromeHeight(); got != drawn {
				t.Errorf("%d columns, %s: chrome %d lines, drawn %d", w, state, got, drawn)
			}
		}
		check("the table")
		if len(hs.m.headerLines()) < 3 {
			t.Fatalf("set-up: no warning line at %d columns", w)
		}
		hs.keys("b")
		check("the baseline's question")
		hs.keys("n", "G", "K")
		check("the kill dialog")
	}
}

// TestQuietSecondWithPublishedPorts: on a machine with published ports
// (their rows follow the sockets' in the poll), a quiet second still
// allocates nothing that grows with the sockets: the verdicts were copied
// into a new slice every poll to put the published ports after them, 160
// KB at 20,000 sockets.
func TestQuietSecondWithPublishedPorts(t *testing.T) {
	o1, b1 := quietSecond(t, 1000, withPublished)
	o2, b2 := quietSecond(t, 20000, withPublished)
	t.Logf("with a published port, a quiet second allocates %.0f objects, %.0f bytes at 1,000 connections; %.0f, %.0f at 20,000", o1, b1, o2, b2)
	if o2 > o1+16 || b2 > b1+4096 {
		t.Errorf("a quiet second allocates more with more sockets: %.0f objects, %.0f bytes at 20,000 against %.0f, %.0f at 1,000", o2, b2, o1, b1)
	}
}
