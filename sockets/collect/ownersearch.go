//go:build linux

package collect

import (
	"cmp"
	"slices"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// candidate is one process a search may read, with what ranks it.
type candidate struct {
	pid    int32
	tier   int8   // -1: read early, its descriptors counted differently now; 0: holds sockets and runs as a sought socket's uid; 1: holds sockets; 2: holds none
	gained uint64 // the last poll at which a read found it holding a socket no process was known to hold
	held   int    // how many socket descriptors it held
}

// search reads, one after another, the processes most likely to hold the
// sockets in ix.want, and stops as soon as every one is found: a new
// socket on a server that accepts a connection every second is found by
// reading that server alone, not every process. Likeliest first: those
// that held sockets and run as a sought socket's uid (the kernel records
// the uid of the process that made a socket), then those that held
// sockets, then the rest (at the poll that read every process early, while
// the dump ran, those whose count of descriptors changed since come
// first); within each, the one that last gained a socket
// nobody was known to hold, then the one with the most sockets, then the
// newest pid. A process read at this poll already is not read again. When
// every process was read and a socket is still held by none, the poll
// ends as a full walk's does (endRound): it is an orphan.
//
// At the poll whose every process was read early, while the dump ran
// (ownerearly.go), a process whose count of descriptors is what it was
// then is not read again: reading them all for the one orphan most
// machines have (a kernel's socket, a process out of view) would double
// the first poll. A socket made in that window by a process that closed
// another meanwhile, the count unchanged, is then taken for an orphan
// until the periodic walk reads its owner, within fullWalkEvery: the bound
// the index gives a socket passed between processes.
func (ix *ownerIndex) search(pids []int32, socks []sockets.Socket, now time.Time) {
	order := ix.order[:0]
	early := ix.seeded != 0 && ix.seeded == ix.polls-1
	for _, pid := range pids {
		m := ix.meta[pid]
		if m.walked == ix.polls {
			continue
		}
		if _, denied := ix.denied[pid]; denied {
			continue // read again by the periodic walk
		}
		c := candidate{pid: pid, tier: 2, gained: m.gained, held: len(ix.ofPID[pid])}
		if c.held > 0 {
			c.tier = 1
			if slices.Contains(ix.uids, m.dir.uid) {
				c.tier = 0
			}
		}
		if early && m.walked == ix.seeded {
			// Read before the dump: only one that opened or closed
			// descriptors since can hold a socket made meanwhile (see
			// below); a kernel before 6.2 counts none, and all are read.
			n, ok := ix.scratch[0].fdCount(ix.procRoot, pid)
			switch {
			case ok && n != m.dir.count:
				c.tier = -1
			case ok && m.dir.count > 0:
				continue
			}
		}
		order = append(order, c)
	}
	slices.SortFunc(order, func(a, b candidate) int {
		if c := cmp.Compare(a.tier, b.tier); c != 0 {
			return c
		}
		if c := cmp.Compare(b.gained, a.gained); c != 0 {
			return c
		}
		if c := cmp.Compare(b.held, a.held); c != 0 {
			return c
		}
		return cmp.Compare(b.pid, a.pid)
	})
	ix.order = order
	for _, c := range order {
		if len(ix.want) == 0 {
			return
		}
		ix.seek(c.pid)
	}
	if len(ix.want) == 0 {
		return
	}
	clear(ix.want) // held by none: orphans now, not sought at the next poll's reads
	ix.endRound(socks)
	if !early { // the early walk was this poll's full walk
		ix.lastFull = now
		ix.fullWalks++
	}
}

// seek reads a process's descriptors again, lowest first, as far as the
// last socket sought (ix.want) that it holds, or all of them: a server
// accepting connections gets the lowest descriptors free, so its new
// socket is found early in its list. What lies past the stop is kept as
// the last read found it: a descriptor closed or received there since is
// noticed by the periodic walk, within fullWalkEvery, as anywhere else.
func (ix *ownerIndex) seek(pid int32) {
	sc := &ix.scratch[0]
	before := sc.read
	gained := false
	stop := func(h heldSocket) bool {
		if _, sought := ix.want[h.ino]; sought {
			delete(ix.want, h.ino)
			gained = true
		}
		return len(ix.want) == 0
	}
	var d described
	var last int32
	d.held, d.dir, last, d.err = sc.socketInodesUntil(ix.procRoot, pid, ix.readBuf, stop)
	d.read = sc.read - before
	if d.held != nil {
		ix.readBuf = d.held[:0]
	}
	old := ix.ofPID[pid]
	ix.forget(pid)
	delete(ix.denied, pid)
	if d.err == nil {
		d.held = mergeHeld(old, d.held, last)
	}
	ix.record(pid, d)
	if gained {
		m := ix.meta[pid]
		m.gained = ix.polls
		ix.meta[pid] = m
	}
}

// mergeHeld is a process's sockets after a read that stopped at
// descriptor last (-1: read whole): what the read found (head), then the
// earlier list's past last. Both lists are in descriptor order, as the
// kernel lists them; old's array is reused where it is large enough, and
// head is copied (it is the scratch's).
func mergeHeld(old, head []heldSocket, last int32) []heldSocket {
	k := len(old)
	if last >= 0 {
		for k > 0 && old[k-1].fd > last {
			k--
		}
	}
	tail := len(old) - k
	total := len(head) + tail
	if cap(old) < total {
		out := make([]heldSocket, 0, total+total/4)
		out = append(out, head...)
		return append(out, old[k:]...)
	}
	out := old[:total]
	copy(out[len(head):], old[k:]) // overlapping: copy moves
	copy(out, head)
	return out
}
