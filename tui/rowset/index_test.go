package rowset

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
)

func indexRow(i int) *Row {
	s := sockets.Socket{Proto: sockets.TCP, Family: 4, Local: netip.MustParseAddr("10.0.0.5"), LPort: 80,
		Remote: netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), RPort: uint16(50000 + i%10000), State: sockets.StateEstablished, Inode: uint64(i + 1)}
	return &Row{Verdict: &assess.Verdict{Socket: s}}
}

// Rows whose keys hash alike are each found by their own key, and each can
// be taken out, first, middle or last of their run, leaving the others
// found. (A test inside the package: no seed makes keys collide, so the
// runs of one hash cannot be reached through the Store's API.)
func TestRowIndexCollisions(t *testing.T) {
	ix := newRowIndex(0)
	ix.collide = true
	var rows []*Row
	for i := range 4 {
		r := indexRow(i)
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
	for _, i := range []int{1, 3, 0} { // the middle, the last, the first of the run
		ix.remove(rows[i])
		if ix.get(rows[i].Key()) != nil {
			t.Fatalf("row %d still found after its removal", i)
		}
	}
	found(rows[2])
	ix.remove(rows[2])
	found()
}

// TestRowIndexAgainstAMap: rows added and removed at random, through the
// table's growth and its runs wrapping at its end, are found exactly as a
// map of the same keys finds them.
func TestRowIndexAgainstAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, collide := range []bool{false, true} {
		ix := newRowIndex(0)
		ix.collide = collide
		want := map[sockets.SocketKey]*Row{}
		rows := make([]*Row, 3000)
		for i := range rows {
			rows[i] = indexRow(i)
		}
		steps := 20000
		if collide {
			steps = 2000 // every probe walks the whole run
		}
		for range steps {
			r := rows[rng.IntN(len(rows))]
			if collide {
				r = rows[rng.IntN(100)]
			}
			if want[r.Key()] == nil {
				ix.add(r.Key(), r)
				want[r.Key()] = r
			} else {
				ix.remove(r)
				delete(want, r.Key())
			}
			if ix.n != len(want) {
				t.Fatalf("collide %v: %d rows indexed, want %d", collide, ix.n, len(want))
			}
		}
		for _, r := range rows {
			if got := ix.get(r.Key()); got != want[r.Key()] {
				t.Fatalf("collide %v: port %d found %v, want %v", collide, r.Socket.RPort, got, want[r.Key()])
			}
		}
		n := 0
		ix.each(func(r *Row) {
			n++
			if want[r.Key()] != r {
				t.Errorf("each gave a row not indexed: port %d", r.Socket.RPort)
			}
		})
		if n != len(want) {
			t.Errorf("collide %v: each saw %d rows, want %d", collide, n, len(want))
		}
	}
}

// TestRowIndexIsSmall: an index of 20,000 rows is a table of 32,768
// slots, 256 KB; a Go map of hash to row took 577 KB for them.
func TestRowIndexIsSmall(t *testing.T) {
	rows := make([]*Row, 20000)
	for i := range rows {
		rows[i] = indexRow(i)
	}
	// TotalAlloc counts every goroutine's allocations (another test's, the
	// runtime's): the least of three builds is the index's own.
	var ix rowIndex
	got := uint64(1 << 62)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ix = newRowIndex(len(rows))
		for _, r := range rows {
			ix.add(r.Key(), r)
		}
		runtime.ReadMemStats(&after)
		got = min(got, after.TotalAlloc-before.TotalAlloc)
	}
	if got > 260<<10 {
		t.Errorf("an index of 20,000 rows allocated %d KB, want 260 at most", got>>10)
	}
	if ix.n != len(rows) {
		t.Errorf("%d rows indexed, want %d", ix.n, len(rows))
	}
}
