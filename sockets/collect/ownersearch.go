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
	tier   int8   // -1: its count of descriptors changed since it was read; 0: holds sockets and runs as a sought socket's uid; 1: holds sockets; 2: holds none; 3: its last read was refused
	gained uint64 // the last poll at which a read found it holding a socket no process was known to hold
	held   int    // how many socket descriptors it held
}

// maxGainers is how many of the processes last found gaining a socket a
// search reads before it ranks the rest.
const maxGainers = 2

// search reads, one after another, the processes most likely to hold the
// sockets in ix.want, and stops as soon as every one is found: a new
// socket on a server that accepts a connection every second is found by
// reading that server alone, not every process. Likeliest first: the
// processes a read last found holding a socket nobody was known to hold
// (a server accepting connections), at most maxGainers; then, ranked by
// a stat of each one's fd directory, those whose count of descriptors
// changed since they were read, those that held sockets and run as a
// sought socket's uid (the kernel records the uid of the process that
// made a socket), those that held sockets, the rest; within each, the last
// to gain a socket, then the fewest sockets (the cheapest to read), then
// the newest pid. A process read at this poll already is not read again.
// When every process was read and a socket is still held by none, the poll
// ends as a full walk's does (endRound): it is an orphan.
//
// At the poll whose every process was read early, while the dump ran
// (ownerearly.go), a process whose count of descriptors is what it was
// then is not read again: reading them all for the one orphan most
// machines have (a kernel's socket, a process out of view) would double
// the first poll. A socket made in that window by a process that closed
// another meanwhile, the count unchanged, is then without its owner for
// that poll: what no read found is not an orphan yet, and the next poll
// reads every process for it. (A kernel before 6.2
// counts no descriptors there: every process is then read.)
func (ix *ownerIndex) search(pids []int32, socks []sockets.Socket, now time.Time) {
	early := ix.seeded != 0 && ix.seeded == ix.polls-1
	if !early && ix.seekGainers(pids) {
		return
	}
	order := ix.order[:0]
	for _, pid := range pids {
		m := ix.meta[pid]
		if m.walked == ix.polls {
			continue
		}
		c := candidate{pid: pid, tier: 2, gained: m.gained, held: len(ix.ofPID[pid])}
		if _, denied := ix.denied[pid]; denied {
			// Last, but read: the pid may be a new process's since its
			// read was refused (another user's that exited), and the
			// socket sought its. A refused read costs one open.
			c.tier = 3
			order = append(order, c)
			continue
		}
		if c.held > 0 {
			c.tier = 1
			if slices.Contains(ix.uids, m.dir.uid) {
				c.tier = 0
			}
		}
		n, ok := ix.scratch[0].fdCount(ix.procRoot, pid)
		switch {
		case ok && n != m.dir.count:
			c.tier = -1
		case early && ok && m.dir.count > 0 && m.walked == ix.seeded:
			continue
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
		if c := cmp.Compare(a.held, b.held); c != 0 {
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
	if early {
		// The early walk was this poll's full walk, but a process it
		// skipped (its count unchanged) may hold one of these: they are
		// not orphans yet, and the next poll's search reads every process
		// for them, as a walk after the dump would have. The first poll
		// stays fast, and such a socket goes without its owner for one
		// poll, not until the periodic walk.
		clear(ix.orphans)
		return
	}
	ix.lastFull = now
	ix.fullWalks++
}

// seekGainers reads the processes last found gaining a socket (at most
// maxGainers, the latest first) and says whether every socket sought is
// found: the common case, a server's new connections, costs no stat of
// every process.
func (ix *ownerIndex) seekGainers(pids []int32) bool {
	var top [maxGainers]candidate
	n := 0
	for _, pid := range pids {
		m := ix.meta[pid]
		if m.gained == 0 || m.walked == ix.polls {
			continue
		}
		if _, denied := ix.denied[pid]; denied {
			continue
		}
		c := candidate{pid: pid, gained: m.gained}
		i := n
		for i > 0 && top[i-1].gained < c.gained {
			i--
		}
		if i >= maxGainers {
			continue
		}
		copy(top[i+1:], top[i:min(n, maxGainers-1)])
		top[i] = c
		n = min(n+1, maxGainers)
	}
	for _, c := range top[:n] {
		ix.seek(c.pid)
		if len(ix.want) == 0 {
			return true
		}
	}
	return false
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
	d.read, d.whole = sc.read-before, last < 0
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
