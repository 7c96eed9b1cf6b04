package rowset

import (
	"hash/maphash"

	"github.com/portwatch/portwatch/sockets"
)

// rowIndex finds rows by their SocketKey through a 64-bit hash of it: a map
// slot holds 16 bytes, not the 64 of a key (56) and a pointer, for each of
// 200,000 rows. Rows whose keys hash alike are chained through Row.next
// and told apart by their keys, so a collision costs a comparison, never
// a wrong row.
type rowIndex struct {
	m    map[uint64]*Row
	n    int
	seed maphash.Seed
	// collide hashes every key alike: the chains' test, as no seed makes
	// two keys collide on purpose.
	collide bool
}

func newRowIndex(size int) rowIndex {
	return rowIndex{m: make(map[uint64]*Row, size), seed: maphash.MakeSeed()}
}

func (ix *rowIndex) hash(k sockets.SocketKey) uint64 {
	if ix.collide {
		return 0
	}
	return maphash.Comparable(ix.seed, k)
}

// get is the row of k, or nil.
func (ix *rowIndex) get(k sockets.SocketKey) *Row {
	for r := ix.m[ix.hash(k)]; r != nil; r = r.next {
		if r.Key() == k {
			return r
		}
	}
	return nil
}

// add indexes r under k, which no row of the index has.
func (ix *rowIndex) add(k sockets.SocketKey, r *Row) {
	h := ix.hash(k)
	r.next = ix.m[h]
	ix.m[h] = r
	ix.n++
}

// remove takes r out of the index; r's key is the one it was added under
// (a row's key never changes: it is what finds the row).
func (ix *rowIndex) remove(r *Row) {
	h := ix.hash(r.Key())
	if head := ix.m[h]; head == r {
		if r.next == nil {
			delete(ix.m, h)
		} else {
			ix.m[h] = r.next
		}
	} else {
		for p := head; p != nil; p = p.next {
			if p.next == r {
				p.next = r.next
				break
			}
		}
	}
	r.next = nil
	ix.n--
}

// each calls fn with every row, in no order; fn may remove the row it is
// given.
func (ix *rowIndex) each(fn func(*Row)) {
	for _, head := range ix.m {
		for r := head; r != nil; {
			next := r.next
			fn(r)
			r = next
		}
	}
}
