package tui

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// benchHarness starts a monitor on a snapshot, and fails the benchmark
// when its set-up produced no rows: a benchmark of an empty table measures
// nothing.
func benchHarness(b *testing.B, w, h int, tabKey string, snap *sockets.Snapshot) *harness {
	b.Helper()
	t := &testing.T{}
	hs := newHarness(t, w, h, snap)
	hs.send(tickMsg{})
	hs.keys(tabKey)
	want := len(snap.Sockets) / 2 // most sockets are connections
	if tabKey == "1" {
		want = len(snap.Sockets) / 20 // the UDP listeners
	}
	if n := hs.m.store.Len(); len(hs.rows()) < want || n < len(snap.Sockets)/2 {
		b.Fatalf("set-up: %d rows on tab %s of %d tracked, want at least %d", len(hs.rows()), tabKey, n, want)
	}
	return hs
}

// BenchmarkPoll is the work of one quiet poll with 20,000 sockets on the
// Listening tab: assessing them (off the UI goroutine) and merging them
// into the model.
func BenchmarkPoll(b *testing.B) {
	snap := bigSnapshot(20000)
	hs := benchHarness(b, 120, 40, "1", snap)
	cmd := testPoller(hs.src, hs.clock.Now).pollCmd(0, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		msg := cmd().(snapshotMsg)
		hs.m.polling = false
		m, _ := hs.m.Update(msg)
		hs.m = m.(Model)
	}
}

// BenchmarkView is one frame of the All-states tab with 20,000 rows, every
// row on screen formatted (none is the last frame's: each differs).
func BenchmarkView(b *testing.B) {
	hs := benchHarness(b, 200, 60, "3", bigSnapshot(20000))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hs.m.table.lines = newRowLines()
		hs.m.shows = hs.m.frame.next() // as an Update that changed the screen
		_ = hs.m.View()
	}
}

// BenchmarkViewQuiet is the frame after a quiet poll: the header and the
// detail pane drawn again, the rows the last frame's.
func BenchmarkViewQuiet(b *testing.B) {
	hs := benchHarness(b, 200, 60, "3", bigSnapshot(20000))
	_ = hs.m.View()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hs.m.shows = hs.m.frame.next()
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
	hs := benchHarness(b, 120, 40, "3", a)
	snaps := []*sockets.Snapshot{a, &churned}
	p := testPoller(hs.src, hs.clock.Now)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hs.src.snaps = snaps[i%2 : i%2+1]
		msg := p.pollCmd(hs.m.seq, nil)().(snapshotMsg)
		hs.m.polling = false
		m, _ := hs.m.Update(msg)
		hs.m = m.(Model)
	}
}

// manyConnections is the fixture's sockets and n established connections
// to port 80, each from its own address.
func manyConnections(n int) *sockets.Snapshot {
	socks := fixtureSockets()
	for i := range n {
		remote := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		socks = append(socks, sk(sockets.TCP, 4, "10.0.0.5", 80, remote.String(), uint16(1024+i%60000), "ESTABLISHED", uint64(1_000_000+i), procWorker))
	}
	sockets.SetDirections(socks)
	return snapAt(t0, socks)
}

// churnHarness is a monitor on tab at 200,000 established connections,
// and two polls' messages between which 1% of them churn.
func churnHarness(b *testing.B, tab string) (*harness, [2]snapshotMsg) {
	a := manyConnections(200000)
	churned := *a
	churned.Sockets = slices.Clone(a.Sockets)
	for i := 20; i < len(churned.Sockets); i += 100 {
		churned.Sockets[i].RPort += 30000
		churned.Sockets[i].Inode += 10_000_000
	}
	hs := benchHarness(b, 120, 40, tab, a)
	p := testPoller(hs.src, hs.clock.Now)
	var msgs [2]snapshotMsg
	for i := range msgs {
		hs.src.snaps = []*sockets.Snapshot{[]*sockets.Snapshot{&churned, a}[i]}
		msgs[i] = p.pollCmd(hs.m.seq, nil)().(snapshotMsg)
	}
	return hs, msgs
}

// BenchmarkTabSwitchUI is a poll with 1% churn at 200,000 connections on
// the All-states tab, then the keys 2 and 3 (the Established tab and back,
// 200,000 rows each): what two tab switches cost on the UI goroutine
// after a poll.
func BenchmarkTabSwitchUI(b *testing.B) {
	hs, msgs := churnHarness(b, "3")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		hs.m.polling = false
		m, _ := hs.m.Update(msgs[i%2])
		hs.m = m.(Model)
		b.StartTimer()
		hs.keys("2", "3")
	}
}

// BenchmarkApplyChurnUI is the UI goroutine's share of a poll (Update with
// the poll's message: the merge, the kept order caught up, the rows taken)
// at 200,000 sockets with 1% churn, on the Established tab: what a key
// pressed meanwhile waits for.
func BenchmarkApplyChurnUI(b *testing.B) {
	hs, msgs := churnHarness(b, "2")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hs.m.polling = false
		m, _ := hs.m.Update(msgs[i%2])
		hs.m = m.(Model)
	}
}
