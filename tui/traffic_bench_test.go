package tui

import (
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/collect"
)

// benchTrafficPolls runs polls of 20,000 sockets with the kernel's counters
// through the poll command (traffic, assessment) and Update, a second
// apart; each poll, move(i) says whether connection i moved.
func benchTrafficPolls(b *testing.B, move func(i, poll int) bool) {
	base := withCounters(bigSnapshot(20000), 0, 0)
	hs := benchHarness(b, 120, 40, "3", base)
	p := testPoller(hs.src, hs.clock.Now)
	// Counters shared from poll to poll, as collection shares an idle
	// connection's.
	socks := base.Sockets
	poll := func(n int) {
		snap := *base
		snap.Taken = base.Taken.Add(time.Duration(n) * time.Second)
		snap.Sockets = socks
		for i := range socks {
			if c := socks[i].Traffic; c != nil && move(i, n) {
				moved := *c
				moved.BytesSent += 1500
				socks[i].Traffic = &moved
			}
		}
		hs.src.snaps = []*sockets.Snapshot{&snap}
		msg := p.pollCmd(hs.m.seq, nil)().(snapshotMsg)
		hs.m.polling = false
		m, _ := hs.m.Update(msg)
		hs.m = m.(Model)
	}
	poll(0)
	poll(1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		poll(i + 2)
	}
}

// BenchmarkPollTrafficIdle is a quiet poll of 20,000 sockets with their
// counters, on the All-states tab: nothing moved. Compare with
// BenchmarkPoll, the same poll without counters.
func BenchmarkPollTrafficIdle(b *testing.B) {
	benchTrafficPolls(b, func(int, int) bool { return false })
}

// BenchmarkPollTrafficBusy is the same with 1% of the connections moving
// each poll: new flows, a history each, a redraw without a sort.
func BenchmarkPollTrafficBusy(b *testing.B) {
	benchTrafficPolls(b, func(i, n int) bool { return (i+n)%100 == 0 })
}

// BenchmarkLivePoll is one whole poll of this machine through the monitor
// (collection, traffic, assessment, Update and a frame), with the TCP
// counters and without: run it with a load (bench/load) to see what the
// counters cost a poll beyond the kernel's dump.
func BenchmarkLivePoll(b *testing.B) {
	for _, counters := range []bool{true, false} {
		b.Run(map[bool]string{true: "counters", false: "plain"}[counters], func(b *testing.B) {
			src := collect.NewLive()
			src.SetCounters(counters)
			hs := newHarness(&testing.T{}, 120, 40)
			cfg := hs.m.cfg
			cfg.Source = src
			hs.m = New(cfg)
			hs.send(tea.WindowSizeMsg{Width: 120, Height: 40})
			hs.send(tickMsg{})
			hs.poll()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				hs.poll()
				_ = hs.m.View()
			}
			b.ReportMetric(float64(hs.m.store.Len()), "rows")
		})
	}
}
