package tui

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// TestDescriberReusesOnlyWhatIsUnchanged: an unchanged connection keeps its
// entry from poll to poll; a new state, owner, flood status or a return
// after vanishing gets a fresh one.
func TestDescriberReusesOnlyWhatIsUnchanged(t *testing.T) {
	kb := sockets.NewKnowledge("/nonexistent", "/nonexistent")
	conn := sk(sockets.TCP, 4, "10.0.0.5", 80, "10.0.0.9", 51234, "ESTABLISHED", 201, procWorker)
	listener := sk(sockets.TCP, 4, "0.0.0.0", 80, "0.0.0.0", 0, "LISTEN", 101, procNginx)
	d := newDescriber()
	describeOne := func(socks ...sockets.Socket) *entry {
		t.Helper()
		snap := snapAt(t0, socks)
		sockets.SetDirections(snap.Sockets)
		entries := d.describeAll(snap, sockets.Analyze(snap, kb))
		for _, e := range entries {
			if e.sock.Inode == 201 {
				return e
			}
		}
		return nil
	}
	first := describeOne(listener, conn)
	if first == nil || first.sock.Direction != sockets.Inbound {
		t.Fatalf("the connection was not described as inbound: %+v", first)
	}
	if again := describeOne(listener, conn); again != first {
		t.Error("an unchanged connection was described again")
	}

	closing := conn
	closing.State = "CLOSE_WAIT"
	if e := describeOne(listener, closing); e == first || e.sock.State != "CLOSE_WAIT" {
		t.Errorf("a state change kept the old entry (state %s)", e.sock.State)
	}
	inherited := closing
	inherited.Owners = []*sockets.Process{procWorker, procNginx}
	if e := describeOne(listener, inherited); len(e.sock.Owners) != 2 {
		t.Errorf("a second owner was not seen: %v", e.sock.Owners)
	}

	// Twenty connections from one address to the listener: a flood.
	flood := []sockets.Socket{listener}
	for i := range sockets.FloodThreshold {
		c := conn
		c.RPort, c.Inode = uint16(52000+i), uint64(300+i)
		flood = append(flood, c)
	}
	before := describeOne(listener, conn)
	if e := describeOne(append(flood, conn)...); e == before || !e.flooded {
		t.Error("a connection that became part of a flood kept its old entry")
	}

	describeOne(listener) // gone: forgotten
	if len(d.prev) != 0 {
		t.Errorf("the describer still remembers %d vanished connections", len(d.prev))
	}
	if e := describeOne(listener, conn); e == first {
		t.Error("a connection that vanished and came back reused its old entry")
	}
}

// TestAReturningEntryFindsItsRowAgain: an entry remembers the row that shows
// it, so an unchanged connection needs no look-up; once that row has been
// dropped (the connection closed, its mark shown), the same entry coming
// back must get a row in the model again.
func TestAReturningEntryFindsItsRowAgain(t *testing.T) {
	kb := sockets.NewKnowledge("/nonexistent", "/nonexistent")
	hs := newHarness(t, 120, 40, snapAt(t0, fixtureSockets()))
	hs.poll()
	conn := sk(sockets.TCP, 4, "10.0.0.5", 8443, "10.0.0.9", 50000, "ESTABLISHED", 900, procWorker)
	e := describe(&conn, sockets.Analyze(nil, kb))
	apply := func(entries ...*entry) {
		hs.m.now = hs.clock.Now()
		hs.m.applySnapshot(snapshotMsg{snap: &sockets.Snapshot{}, analysis: sockets.Analyze(nil, kb), entries: entries, at: hs.m.now})
	}
	apply(e)
	first := hs.m.entries[e.key()]
	if first == nil || e.row != first {
		t.Fatal("the entry did not get a row")
	}
	apply(e)
	if hs.m.entries[e.key()] != first || first.removed() {
		t.Fatal("an unchanged entry lost its row")
	}
	apply() // closed
	hs.clock.Advance(markFor + time.Second)
	apply() // its mark has been shown: dropped
	if _, ok := hs.m.entries[e.key()]; ok {
		t.Fatal("a closed row is still tracked after its mark")
	}
	apply(e)
	if got := hs.m.entries[e.key()]; got == nil || got.entry != e || got.removed() {
		t.Errorf("the returning entry has no live row (%+v)", got)
	}
	if n := hs.m.counts[tabEstablished]; n != 1 {
		t.Errorf("established count %d, want 1", n)
	}
}

// recyclingSource hands out a fresh copy of its sockets and, like a real
// source reusing memory, scribbles over every snapshot handed back.
type recyclingSource struct {
	socks    []sockets.Socket
	recycled int
}

func (r *recyclingSource) Snapshot(context.Context) (*sockets.Snapshot, error) {
	return snapAt(t0, slices.Clone(r.socks)), nil
}

func (r *recyclingSource) Recycle(snap *sockets.Snapshot) {
	r.recycled++
	for i := range snap.Sockets {
		snap.Sockets[i] = sockets.Socket{State: "SCRIBBLED"}
	}
}

// TestPollHandsTheSnapshotBackAndKeepsNothingOfIt: the poll command
// returns the snapshot to a source that recycles memory, and no row keeps a
// pointer into it.
func TestPollHandsTheSnapshotBackAndKeepsNothingOfIt(t *testing.T) {
	src := &recyclingSource{socks: fixtureSockets()}
	kb := sockets.NewKnowledge("/nonexistent", "/nonexistent")
	msg := pollCmd(src, newDescriber(), kb, 0, time.Minute, func() time.Time { return t0 })().(snapshotMsg)
	if src.recycled != 1 {
		t.Fatalf("the snapshot was handed back %d times, want once", src.recycled)
	}
	if msg.snap.Sockets != nil {
		t.Error("the message still carries the snapshot's sockets")
	}
	for i, e := range msg.entries {
		if e.sock.State != src.socks[i].State || e.sock.LPort != src.socks[i].LPort {
			t.Errorf("entry %d reads %s :%d, want %s :%d", i, e.sock.State, e.sock.LPort, src.socks[i].State, src.socks[i].LPort)
		}
	}
}

// TestQuietPollsSkipTheRebuild: a poll in which no row changes leaves the
// rows as they are, without a pass or a sort; a connection that closes, a
// listener whose connection count moves or a new socket rebuilds them.
func TestQuietPollsSkipTheRebuild(t *testing.T) {
	base := fixtureSockets()
	more := append(slices.Clone(base), sk(sockets.TCP, 4, "10.0.0.5", 80, "10.0.0.8", 40000, "ESTABLISHED", 206, procWorker))
	sockets.SetDirections(more)
	// Then curl's outbound connection closes, and nothing else changes.
	fewer := slices.DeleteFunc(slices.Clone(more), func(s sockets.Socket) bool { return s.Inode == 203 })
	hs := started(t, 120, 40, snapAt(t0, base), snapAt(t0, base), snapAt(t0, base), snapAt(t0, more), snapAt(t0, more), snapAt(t0, fewer))
	rows := slices.Clone(hs.m.rows)
	webConns := hs.m.entries[base[0].Key()].conns
	hs.poll()
	hs.poll()
	if hs.m.skippedRebuilds != 2 {
		t.Fatalf("%d of 2 quiet polls skipped the rebuild", hs.m.skippedRebuilds)
	}
	if !slices.Equal(hs.m.rows, rows) {
		t.Error("the rows changed in a quiet poll")
	}
	hs.poll() // one more connection to the web server: port 80's count moves
	if hs.m.skippedRebuilds != 2 {
		t.Error("a poll with a new connection skipped the rebuild")
	}
	if web := hs.m.entries[base[0].Key()]; web.conns != webConns+1 {
		t.Errorf("port 80 shows %d connections, want %d", web.conns, webConns+1)
	}
	hs.poll()
	if hs.m.skippedRebuilds != 3 {
		t.Error("the quiet poll after it did not skip the rebuild")
	}
	hs.poll() // curl's connection closes
	if gone := hs.m.entries[base[8].Key()]; gone == nil || !gone.removed() {
		t.Error("a connection that closed during quiet polls was not marked closed")
	}
	if n := hs.m.counts[tabEstablished]; n != 3 { // 201, 202 and 206 are left
		t.Errorf("established count %d after the close, want 3", n)
	}
}

// TestAStateChangeAloneRebuildsTheRows: a connection that goes from
// ESTABLISHED to CLOSE_WAIT, with nothing opened or closed, leaves the
// Established tab at once.
func TestAStateChangeAloneRebuildsTheRows(t *testing.T) {
	base := fixtureSockets()
	closing := slices.Clone(base)
	closing[6].State = "CLOSE_WAIT" // nginx's connection from 10.0.0.9:51234
	hs := started(t, 120, 40, snapAt(t0, base), snapAt(t0, base), snapAt(t0, closing))
	hs.keys("2")
	hs.poll()
	before := hs.m.counts[tabEstablished]
	hs.poll()
	if n := hs.m.counts[tabEstablished]; n != before-1 {
		t.Errorf("established count %d after a connection began closing, want %d", n, before-1)
	}
	for _, r := range hs.m.rows {
		if r.sock.Inode == base[6].Inode {
			t.Errorf("the closing connection is still on the Established tab (%s)", r.sock.State)
		}
	}
}

// TestRowsStaySortedAndWholeThroughChurn: rows laid out in last time's
// order and then sorted are in order, and each socket shows once, poll
// after poll, on every tab and sort.
func TestRowsStaySortedAndWholeThroughChurn(t *testing.T) {
	a := bigSnapshot(600)
	b := *a
	b.Sockets = slices.Clone(a.Sockets)
	for i := 20; i < len(b.Sockets); i += 7 { // other connections come and go
		b.Sockets[i].RPort += 30000
		b.Sockets[i].Inode += 1_000_000
	}
	hs := started(t, 120, 40, a)
	for _, keys := range [][]string{{"3"}, {"2"}, {"3", "s"}, {"1"}, {"3", "s", "s", "s"}} {
		hs.keys(keys...)
		for i := range 4 {
			hs.src.snaps = []*sockets.Snapshot{a, &b}[i%2 : i%2+1]
			hs.poll()
			if !slices.IsSortedFunc(hs.m.rows, hs.m.rowOrder()) {
				t.Fatalf("after %v and %d polls the rows are out of order", keys, i+1)
			}
			seen := map[*tracked]bool{}
			for _, r := range hs.m.rows {
				if seen[r] || r.picked {
					t.Fatalf("after %v and %d polls a row is listed twice or left marked", keys, i+1)
				}
				seen[r] = true
			}
			want := 0
			for _, tr := range hs.m.entries {
				if hs.m.tab == tabAll || tr.tab == hs.m.tab {
					want++
				}
			}
			if len(hs.m.rows) != want {
				t.Fatalf("after %v and %d polls %d rows, want %d", keys, i+1, len(hs.m.rows), want)
			}
		}
	}
}
