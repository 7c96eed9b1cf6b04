//go:build linux

package collect

import (
	"math/bits"

	"github.com/portwatch/portwatch/sockets"
)

// deduper drops the second listing of a socket in one poll. The kernel's
// dumps come in pieces (a sock_diag datagram, a page of /proc/net/tcp), and
// each piece resumes where the last stopped by hash bucket and position: a
// socket that another program adds or removes meanwhile in the same bucket
// shifts the rest by one place, and a socket may be listed twice. An inode
// names one socket, so a second listing of an inode is dropped (the first
// is kept); sockets without one (TIME_WAIT remnants) are all kept.
//
// Its table of inodes (open addressing, linear probing, 0 for an empty
// slot) is kept between polls: a poll costs one pass, a clear of the table,
// and no allocation once the table has grown to the machine's size.
type deduper struct {
	table []uint64
}

// dedupe removes repeated inodes from socks in place, keeping the order,
// and clears the tail it frees; it returns the shortened slice.
func (d *deduper) dedupe(socks []sockets.Socket) []sockets.Socket {
	n := len(socks)
	if n < 2 {
		return socks
	}
	// A table at least twice the sockets keeps probes short.
	shift := 64 - bits.Len(uint(2*n-1))
	size := 1 << (64 - shift)
	if cap(d.table) < size {
		d.table = make([]uint64, size)
	}
	t := d.table[:size]
	clear(t)
	mask := uint64(size - 1)
	out := 0
	for i := range socks {
		if ino := socks[i].Inode; ino != 0 {
			h := (ino * 0x9e3779b97f4a7c15) >> shift // Fibonacci hashing
			for t[h] != 0 && t[h] != ino {
				h = (h + 1) & mask
			}
			if t[h] == ino {
				continue // listed already
			}
			t[h] = ino
		}
		if out != i {
			socks[out] = socks[i]
		}
		out++
	}
	clear(socks[out:])
	return socks[:out]
}
