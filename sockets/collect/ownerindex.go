//go:build linux

package collect

import (
	"cmp"
	"errors"
	"io/fs"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// fullWalkEvery bounds how stale the owner map may get: a connection passed
// to another process over a Unix socket, or a pid reused between two polls,
// is noticed by the next full walk at the latest. (A listener passed so is
// noticed at the next poll: see checkListeners.)
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
	byInode map[uint64]int32
	shared  map[uint64][]int32
	ofPID   map[int32][]heldSocket // what each walked process held, and at which descriptor
	orphans map[uint64]bool        // inodes no process held at the last full walk
	// fresh lists the inodes this poll's full walk found held by no process
	// that were not orphans before: their owner may have exited since they
	// were listed, which the caller checks (gone, not outside).
	fresh  []uint64
	denied map[int32]string // processes whose descriptors we may not read, and why
	// listenerFD remembers at which descriptor an owner holds a listener,
	// for checkListeners; an entry found wrong is dropped, the map cleared
	// at each full walk.
	listenerFD map[pidInode]int32
	// stdio has, for the few processes whose descriptor 0, 1 or 2 is a
	// socket, those sockets' inodes (a reverse shell's, an inetd service's).
	stdio    map[int32][3]uint64
	lastFull time.Time
	// Counters for tests and benchmarks.
	fullWalks, pidWalks int
}

// pidInode is one process's hold on one socket.
type pidInode struct {
	pid int32
	ino uint64
}

func newOwnerIndex(procRoot string) *ownerIndex {
	return &ownerIndex{procRoot: procRoot, byInode: map[uint64]int32{}, shared: map[uint64][]int32{}, ofPID: map[int32][]heldSocket{},
		orphans: map[uint64]bool{}, denied: map[int32]string{}, listenerFD: map[pidInode]int32{}, stdio: map[int32][3]uint64{}}
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

// update brings the map up to date for this poll's processes and sockets.
func (ix *ownerIndex) update(pids []int32, socks []sockets.Socket, now time.Time) {
	ix.fresh = ix.fresh[:0]
	if ix.lastFull.IsZero() || now.Sub(ix.lastFull) >= fullWalkEvery {
		ix.fullWalk(pids, socks, now)
		return
	}
	alive := make(map[int32]bool, len(pids))
	for _, pid := range pids {
		alive[pid] = true
		_, walked := ix.ofPID[pid]
		if _, denied := ix.denied[pid]; !walked && !denied {
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
	ix.ofPID = make(map[int32][]heldSocket, len(pids))
	ix.denied = map[int32]string{}
	clear(ix.listenerFD)
	clear(ix.stdio)
	read := readDescriptors(ix.procRoot, pids)
	for i, pid := range pids {
		ix.record(pid, read[i].held, read[i].err)
	}
	before := ix.orphans
	ix.orphans = map[uint64]bool{}
	ix.fresh = ix.fresh[:0]
	for i := range socks {
		if ino := socks[i].Inode; ino != 0 && !ix.owned(ino) {
			ix.orphans[ino] = true
			if !before[ino] {
				ix.fresh = append(ix.fresh, ino)
			}
		}
	}
	ix.lastFull = now
	ix.fullWalks++
}

// walk reads one process's descriptors; a process that has exited is
// skipped, one whose descriptors may not be read is recorded as denied.
func (ix *ownerIndex) walk(pid int32) {
	held, err := socketInodes(ix.procRoot, pid)
	ix.record(pid, held, err)
}

// described is one process's descriptors as readDescriptors read them.
type described struct {
	held []heldSocket
	err  error
}

// maxWalkers bounds the goroutines reading descriptors at once.
const maxWalkers = 4

// readDescriptors reads the socket descriptors of every pid, in order, on
// as many goroutines as there are cores (at most maxWalkers): at 100,000
// connections a full walk is 200,000 stats of /proc/PID/fd, most of a
// first poll, and each process is read on its own. What was read is
// recorded afterwards, in the pids' order, on one goroutine (record), so
// the index comes out as a walk one process after another makes it.
func readDescriptors(procRoot string, pids []int32) []described {
	out := make([]described, len(pids))
	workers := min(runtime.GOMAXPROCS(0), maxWalkers, len(pids))
	if workers <= 1 {
		for i, pid := range pids {
			out[i].held, out[i].err = socketInodes(procRoot, pid)
		}
		return out
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	wg.Add(workers)
	for range workers {
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(pids); i = int(next.Add(1) - 1) {
				out[i].held, out[i].err = socketInodes(procRoot, pids[i])
			}
		}()
	}
	wg.Wait()
	return out
}

// record notes what one process's descriptors held (read by walk or
// readDescriptors); a process that has exited is skipped, one whose
// descriptors may not be read is recorded as denied.
func (ix *ownerIndex) record(pid int32, held []heldSocket, err error) {
	ix.pidWalks++
	if errors.Is(err, fs.ErrPermission) {
		ix.denied[pid] = unreadableReason(ix.procRoot, pid, err)
		return
	}
	if err != nil {
		return
	}
	ix.ofPID[pid] = held
	var stdio [3]uint64
	for _, h := range held {
		ix.add(h.ino, pid)
		delete(ix.orphans, h.ino)
		if h.fd >= 0 && h.fd < 3 {
			stdio[h.fd] = h.ino
		}
	}
	if stdio != ([3]uint64{}) {
		ix.stdio[pid] = stdio
	} else {
		delete(ix.stdio, pid)
	}
}

// stdioOf is the socket inodes process pid held at descriptors 0-2 when
// its descriptors were last read.
func (ix *ownerIndex) stdioOf(pid int32) [3]uint64 { return ix.stdio[pid] }

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
	for _, h := range ix.ofPID[pid] {
		ino := h.ino
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
	delete(ix.stdio, pid)
}

// checkListeners makes sure that every listener's recorded owners still
// hold it, so that a listener passed to another process (SCM_RIGHTS, a
// graceful restart handing its sockets over) and closed by the sender is
// the receiver's at the next poll, not after the next full walk. Listeners
// are few, and each owner's hold costs one stat() of its descriptor's
// /proc link; an owner found not to hold it any more has its descriptors
// read again, and a listener left with no owner starts a full walk (the
// receiver, a process walked before, is found only so).
func (ix *ownerIndex) checkListeners(pids []int32, socks []sockets.Socket, now time.Time) {
	if ix.lastFull.Equal(now) {
		return // walked in full this very poll
	}
	var stale []int32
	var one [1]int32
	for i := range socks {
		s := &socks[i]
		if s.Inode == 0 || !s.IsListening() {
			continue
		}
		for _, pid := range ix.owners(s.Inode, &one) {
			if !ix.holds(pid, s.Inode) && !slices.Contains(stale, pid) {
				stale = append(stale, pid)
			}
		}
	}
	if len(stale) == 0 {
		return
	}
	for _, pid := range stale {
		ix.forget(pid)
		ix.walk(pid)
	}
	for i := range socks {
		if ino := socks[i].Inode; ino != 0 && socks[i].IsListening() && !ix.owned(ino) && !ix.orphans[ino] {
			ix.fullWalk(pids, socks, now)
			return
		}
	}
}

// holds checks that pid still holds the socket ino at the descriptor where
// it was found; an entry found wrong is forgotten.
func (ix *ownerIndex) holds(pid int32, ino uint64) bool {
	key := pidInode{pid, ino}
	fd, ok := ix.listenerFD[key]
	if !ok {
		i := slices.IndexFunc(ix.ofPID[pid], func(h heldSocket) bool { return h.ino == ino })
		if i < 0 {
			return false
		}
		fd = ix.ofPID[pid][i].fd
		ix.listenerFD[key] = fd
	}
	if stillHolds(ix.procRoot, pid, fd, ino) {
		return true
	}
	delete(ix.listenerFD, key)
	return false
}

// unreadable lists the processes whose descriptors could not be read,
// lowest pid first; the last list is handed back when nothing changed, so
// consecutive polls share it.
func (ix *ownerIndex) unreadable(last *sockets.UnreadableOwners) *sockets.UnreadableOwners {
	if len(ix.denied) == 0 {
		return nil
	}
	if last != nil && len(last.Processes) == len(ix.denied) {
		same := true
		for _, p := range last.Processes {
			if r, ok := ix.denied[p.PID]; !ok || r != p.Reason {
				same = false
				break
			}
		}
		if same {
			return last
		}
	}
	list := make([]sockets.UnreadableProcess, 0, len(ix.denied))
	for pid, reason := range ix.denied {
		list = append(list, sockets.UnreadableProcess{PID: pid, Reason: reason})
	}
	slices.SortFunc(list, func(a, b sockets.UnreadableProcess) int { return cmp.Compare(a.PID, b.PID) })
	return &sockets.UnreadableOwners{Processes: list, Ptrace: holdsPtrace()}
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
