package rowset

import (
	"net/netip"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
)

// Rows whose keys hash alike are each found by their own key, and each can
// be taken out, first, middle or last of their chain, leaving the others
// found. (The one test inside the package: no seed makes keys collide, so
// the chains cannot be reached through the Store's API.)
func TestRowIndexChains(t *testing.T) {
	ix := newRowIndex(0)
	ix.collide = true
	var rows []*Row
	for i := range 4 {
		s := sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr("10.0.0.5"), LPort: 80,
			Remote: netip.MustParseAddr("10.0.0.9"), RPort: uint16(50000 + i), State: sockets.StateEstablished, Inode: uint64(i + 1)}
		r := &Row{Verdict: &assess.Verdict{Socket: s}}
		ix.add(r.Key(), r)
		rows = append(rows, r)
	}
	found := func(want ...*Row) {
		t.Helper()
		if ix.n != len(want) {
			t.Fatalf("%d rows indexed, want %d", ix.n, len(want))
		}
		n := 0
		ix.each(func(*Row) { n++ })
		if n != len(want) {
			t.Fatalf("each saw %d rows, want %d", n, len(want))
		}
		for _, r := range want {
			if got := ix.get(r.Key()); got != r {
				t.Fatalf("the row of port %d: found %v", r.Socket.RPort, got)
			}
		}
	}
	found(rows...)
	for _, i := range []int{1, 3, 0} { // the middle, the head, the last of the chain (added last, found first)
		ix.remove(rows[i])
		if ix.get(rows[i].Key()) != nil {
			t.Fatalf("row %d still found after its removal", i)
		}
	}
	found(rows[2])
	ix.each(ix.remove)
	found()
}
