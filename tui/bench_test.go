package tui

import (
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
