//go:build linux

package collect

import (
	"errors"
	"io/fs"
	"slices"
	"strconv"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// fullWalkEvery bounds how stale the owner map may get: a socket passed to
// another process over a Unix socket, or a pid reused between two polls, is
// noticed by the next full walk at the latest.
const fullWalkEvery = 30 * time.Second

// ownerIndex keeps the inode -> owners map between polls. Reading every
// process's descriptors costs about 3.6 us a descriptor, so a poll walks
// only the processes that are new; it walks them all only when a socket's
// owner is unknown, or every fullWalkEvery.
type ownerIndex struct {
	procRoot string
	// byInode has each socket's lowest owning pid; shared lists every owner
	// of the few sockets held by more than one process. A busy server has
	// 60,000 sockets with one owner each: a pid apiece is all they cost.
	byInode  map[uint64]int32
	shared   map[uint64][]int32
	ofPID    map[int32][]uint64 // what each walked process held
	orphans  map[uint64]bool    // inodes no process held at the last full walk
	denied   map[int32]bool     // processes whose descriptors we may not read
	lastFull time.Time
	// Counters for tests and benchmarks.
	fullWalks, pidWalks int
}

func newOwnerIndex(procRoot string) *ownerIndex {
	return &ownerIndex{procRoot: procRoot, byInode: map[uint64]int32{}, shared: map[uint64][]int32{}, ofPID: map[int32][]uint64{},
		orphans: map[uint64]bool{}, denied: map[int32]bool{}}
}

// owners returns the pids holding an inode, lowest first; a single owner
// is returned in one, which the caller provides.
func (ix *ownerIndex) owners(inode uint64, one *[1]int32) []int32 {
	if pids, ok := ix.shared[inode]; ok {
		return pids
	}
	if pid, ok := ix.byInode[inode]; ok {
		one[0] = pid
		return one[:]
	}
	return nil
}

// owned: does any process hold the inode?
func (ix *ownerIndex) owned(inode uint64) bool {
	_, ok := ix.byInode[inode]
	return ok
}

// update brings the map up to date for this poll's
func (ix *ownerIndex) update(pids []int32, socks []sockets.Socket, now time.Time) {
	if ix.lastFull.IsZero() || now.Sub(ix.lastFull) >= fullWalkEvery {
		ix.fullWalk(pids, socks, now)
		return
	}
	alive := make(map[int32]bool, len(pids))
	for _, pid := range pids {
		alive[pid] = true
		_, walked := ix.ofPID[pid]
		if !walked && !ix.denied[pid] {
			ix.walk(pid)
		}
	}
	for pid := range ix.ofPID {
		if !alive[pid] {
			ix.forget(pid)
		}
	}
	for pid := range ix.denied {
		if !alive[pid] {
			delete(ix.denied, pid)
		}
	}
	for i := range socks {
		ino := socks[i].Inode
		if ino != 0 && !ix.owned(ino) && !ix.orphans[ino] {
			ix.fullWalk(pids, socks, now) // a new socket of a process we know
			return
		}
	}
}

func (ix *ownerIndex) fullWalk(pids []int32, socks []sockets.Socket, now time.Time) {
	// Sized for this poll's sockets: growing a map by doubling would leave
	// its old tables behind as garbage, at the first walk most of all.
	ix.byInode = make(map[uint64]int32, max(len(ix.byInode), len(socks)))
	ix.shared = map[uint64][]int32{}
	ix.ofPID = make(map[int32][]uint64, len(pids))
	ix.denied = map[int32]bool{}
	for _, pid := range pids {
		ix.walk(pid)
	}
	ix.orphans = map[uint64]bool{}
	for i := range socks {
		if ino := socks[i].Inode; ino != 0 && !ix.owned(ino) {
			ix.orphans[ino] = true
		}
	}
	ix.lastFull = now
	ix.fullWalks++
}

// walk reads one process's descriptors; a process that has exited is skipped.
func (ix *ownerIndex) walk(pid int32) {
	ix.pidWalks++
	inodes, err := socketInodes(ix.procRoot, pid)
	if errors.Is(err, fs.ErrPermission) {
		ix.denied[pid] = true
		return
	}
	if err != nil {
		return
	}
	ix.ofPID[pid] = inodes
	for _, ino := range inodes {
		ix.add(ino, pid)
		delete(ix.orphans, ino)
	}
}

// add records pid as an owner of ino.
func (ix *ownerIndex) add(ino uint64, pid int32) {
	first, ok := ix.byInode[ino]
	switch {
	case !ok:
		ix.byInode[ino] = pid
	case first == pid:
	default:
		pids, ok := ix.shared[ino]
		if !ok {
			pids = []int32{first}
		}
		if i, found := slices.BinarySearch(pids, pid); !found {
			pids = slices.Insert(pids, i, pid)
		}
		ix.shared[ino], ix.byInode[ino] = pids, pids[0]
	}
}

func (ix *ownerIndex) forget(pid int32) {
	for _, ino := range ix.ofPID[pid] {
		pids, ok := ix.shared[ino]
		if !ok {
			if ix.byInode[ino] == pid {
				delete(ix.byInode, ino)
			}
			continue
		}
		if i, found := slices.BinarySearch(pids, pid); found {
			pids = slices.Delete(pids, i, i+1)
		}
		switch len(pids) {
		case 0:
			delete(ix.shared, ino)
			delete(ix.byInode, ino)
		case 1:
			delete(ix.shared, ino)
			ix.byInode[ino] = pids[0]
		default:
			ix.shared[ino], ix.byInode[ino] = pids, pids[0]
		}
	}
	delete(ix.ofPID, pid)
}

// listPIDs lists the processes under procRoot.
func listPIDs(procRoot string) ([]int32, error) {
	names, err := dirNames(procRoot)
	if err != nil {
		return nil, err
	}
	pids := make([]int32, 0, len(names))
	for _, n := range names {
		if pid, err := strconv.ParseInt(n, 10, 32); err == nil && pid > 0 {
			pids = append(pids, int32(pid))
		}
	}
	return pids, nil
}
