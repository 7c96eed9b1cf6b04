package rowset

import (
	"hash/maphash"

	"github.com/portwatch/portwatch/sockets"
)

// rowIndex finds rows by their SocketKey: an open-addressed table of row
// pointers, probed linearly from a 64-bit hash of the key, which the row
// keeps (Row.hash) so that a probe compares keys only where the hashes
// agree. A slot is 8 bytes and the table at most three quarters full: 256
// KB at 20,000 rows, where a Go map of hash to row took 577 KB (a slot
// there is 16 bytes, in groups with their control words, and a row's
// collisions were chained through a pointer of its own). Rows whose keys
// hash alike are told apart by their keys, so a collision costs a
// comparison, never a wrong row.
type rowIndex struct {
	slots []*Row // len a power of two; nil is empty
	n     int
	seed  maphash.Seed
	// collide hashes every key alike: the probes' test, as no seed makes
	// two keys collide on purpose.
	collide bool
}

func newRowIndex(size int) rowIndex {
	return rowIndex{slots: make([]*Row, slotsFor(size)), seed: maphash.MakeSeed()}
}

// slotsFor is the table's length for n rows: a power of two, n at most
// three quarters of it.
func slotsFor(n int) int {
	size := 8
	for size*3 < n*4 {
		size *= 2
	}
	return size
}

func (ix *rowIndex) hash(k sockets.SocketKey) uint64 {
	if ix.collide {
		return 0
	}
	return maphash.Comparable(ix.seed, k)
}

// get is the row of k, or nil.
func (ix *rowIndex) get(k sockets.SocketKey) *Row {
	h := ix.hash(k)
	mask := uint64(len(ix.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		r := ix.slots[i]
		if r == nil {
			return nil
		}
		if r.hash == h && r.Key() == k {
			return r
		}
	}
}

// add indexes r under k, which no row of the index has.
func (ix *rowIndex) add(k sockets.SocketKey, r *Row) {
	if (ix.n+1)*4 > len(ix.slots)*3 {
		ix.grow()
	}
	r.hash = ix.hash(k)
	ix.put(r)
	ix.n++
}

// put places r in the first free slot from its hash's.
func (ix *rowIndex) put(r *Row) {
	mask := uint64(len(ix.slots) - 1)
	i := r.hash & mask
	for ix.slots[i] != nil {
		i = (i + 1) & mask
	}
	ix.slots[i] = r
}

// grow doubles the table.
func (ix *rowIndex) grow() {
	old := ix.slots
	ix.slots = make([]*Row, len(old)*2)
	for _, r := range old {
		if r != nil {
			ix.put(r)
		}
	}
}

// remove takes r out of the index; r's key is the one it was added under
// (a row's key never changes: it is what finds the row). The rows after
// it in its run move back into the hole where their probe allows, so no
// look-up ever stops short of its row (no tombstones to sweep).
func (ix *rowIndex) remove(r *Row) {
	mask := uint64(len(ix.slots) - 1)
	i := r.hash & mask
	for ix.slots[i] != r {
		if ix.slots[i] == nil {
			return // not indexed
		}
		i = (i + 1) & mask
	}
	ix.n--
	for {
		ix.slots[i] = nil
		j := i
		for {
			j = (j + 1) & mask
			next := ix.slots[j]
			if next == nil {
				return
			}
			// next may fill the hole at i unless its probe starts after
			// i, cyclically, up to j.
			home := next.hash & mask
			if (j-home)&mask >= (j-i)&mask {
				ix.slots[i] = next
				i = j
				break
			}
		}
	}
}

// each calls fn with every row, in no order; fn must not add or remove
// rows.
func (ix *rowIndex) each(fn func(*Row)) {
	for _, r := range ix.slots {
		if r != nil {
			fn(r)
		}
	}
}
