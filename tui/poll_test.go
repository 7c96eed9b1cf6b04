package tui

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/tui/rowset"
)

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
// returns the snapshot to a source that recycles memory, and no verdict
// keeps a pointer into it.
func TestPollHandsTheSnapshotBackAndKeepsNothingOfIt(t *testing.T) {
	src := &recyclingSource{socks: fixtureSockets()}
	msg := testPoller(src, func() time.Time { return t0 }).pollCmd(0, nil)().(snapshotMsg)
	if src.recycled != 1 {
		t.Fatalf("the snapshot was handed back %d times, want once", src.recycled)
	}
	if msg.snap.Sockets != nil {
		t.Error("the message still carries the snapshot's sockets")
	}
	for i, v := range msg.assessment.Verdicts {
		if v.Socket.State != src.socks[i].State || v.Socket.LPort != src.socks[i].LPort {
			t.Errorf("verdict %d reads %s :%d, want %s :%d", i, v.Socket.State, v.Socket.LPort, src.socks[i].State, src.socks[i].LPort)
		}
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
	before := hs.m.store.Counts()[rowset.Established]
	hs.poll()
	if n := hs.m.store.Counts()[rowset.Established]; n != before-1 {
		t.Errorf("established count %d after a connection began closing, want %d", n, before-1)
	}
	for _, r := range hs.rows() {
		if r.Socket.Inode == base[6].Inode {
			t.Errorf("the closing connection is still on the Established tab (%s)", r.Socket.State)
		}
	}
}

// TestRowsStaySortedAndWholeThroughChurn: rows are in order and each
// socket shows once, poll after poll, on every tab and sort.
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
			if !hs.m.table.query(hs.m.filter.needle()).IsSorted(hs.rows()) {
				t.Fatalf("after %v and %d polls the rows are out of order", keys, i+1)
			}
			seen := map[*rowset.Row]bool{}
			for _, r := range hs.rows() {
				if seen[r] {
					t.Fatalf("after %v and %d polls a row is listed twice", keys, i+1)
				}
				seen[r] = true
			}
			counts := hs.m.store.Counts()
			open := 0
			for _, r := range hs.rows() {
				if !r.Removed() {
					open++
				}
			}
			if open != counts[hs.m.table.tab] {
				t.Fatalf("after %v and %d polls %d open rows, the tab counts %d", keys, i+1, open, counts[hs.m.table.tab])
			}
		}
	}
}
