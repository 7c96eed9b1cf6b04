package tui

import (
	"slices"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// BenchmarkPoll is the work of one poll with 20,000 sockets: describing
// them (off the UI goroutine) and merging them into the model.
func BenchmarkPoll(b *testing.B) {
	snap := bigSnapshot(20000)
	kb := sockets.NewKnowledge("/nonexistent", "/nonexistent")
	hs := newHarness(&testing.T{}, 120, 40, snap)
	cmd := pollCmd(hs.src, newDescriber(), kb, 0, time.Minute, hs.clock.Now)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		msg := cmd().(snapshotMsg)
		hs.m.polling = false
		m, _ := hs.m.Update(msg)
		hs.m = m.(Model)
	}
}

// BenchmarkView is one frame of the All-states tab with 20,000 rows.
func BenchmarkView(b *testing.B) {
	hs := newHarness(&testing.T{}, 200, 60, bigSnapshot(20000))
	hs.send(tickMsg{})
	hs.keys("3")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = hs.m.View()
	}
}

// BenchmarkPollChurn is one poll of 20,000 sockets in which 1% of the
// connections are new and 1% closed, on the All-states tab: every poll
// rebuilds and sorts the rows.
func BenchmarkPollChurn(b *testing.B) {
	a := bigSnapshot(20000)
	churned := *a
	churned.Sockets = slices.Clone(a.Sockets)
	for i := 20; i < len(churned.Sockets); i += 100 { // 1%: other ports, other sockets
		churned.Sockets[i].RPort += 30000
		churned.Sockets[i].Inode += 1_000_000
	}
	kb := sockets.NewKnowledge("/nonexistent", "/nonexistent")
	hs := newHarness(&testing.T{}, 120, 40, a)
	hs.send(tickMsg{})
	hs.keys("3")
	d := newDescriber()
	snaps := []*sockets.Snapshot{a, &churned}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hs.src.snaps = snaps[i%2 : i%2+1]
		msg := pollCmd(hs.src, d, kb, hs.m.seq, time.Minute, hs.clock.Now)().(snapshotMsg)
		hs.m.polling = false
		m, _ := hs.m.Update(msg)
		hs.m = m.(Model)
	}
}
