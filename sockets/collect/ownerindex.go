//go:build linux

package collect

import (
	"cmp"
	"errors"
	"io/fs"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// fullWalkEvery bounds how stale the owner map may get: a connection passed
// to another process over a Unix socket, or a pid reused between two polls,
// is noticed within it at the latest. (A listener passed so is noticed at
// the next poll: see checkListeners.) The index gets there by reading a
// slice of the processes each poll, in pid order, so that every process is
// read again once in fullWalkEvery and no poll pays for them all at once.
// The process events connector (procevents_linux.go) does not make this
// walk needless: it tells of exec and exit, not of a descriptor received
// over a Unix socket or dup'ed into another process, and it may drop
// messages when its queue fills.
const fullWalkEvery = 30 * time.Second

// A process holding many descriptors is most of the periodic walk's cost:
// at 10,000 connections two processes hold 20,000 socket descriptors, and
// reading them again (getdents, then a stat each) was a quarter of a quiet
// poll's CPU besides the kernel's dump. So the periodic walk first asks such
// a process's fd directory, in one stat, whether anything can have changed
// since it was last read whole: the directory's inode (a new process on the
// same pid has a new one) and its size (the descriptor count, Linux 6.2
// on). When both are the same, the read is skipped, up to bigUnchangedFor
// since the last whole read. What that leaves: a descriptor closed and
// another received at the same number, with the count the same, in a
// process that keeps its count, is noticed within bigUnchangedFor rather
// than fullWalkEvery. A new socket's owner is searched for at once in any
// case (search), listeners are checked every poll (checkListeners), and a
// process whose count moved is read at its turn as before.
const (
	bigProcess      = 256
	bigUnchangedFor = 5 * time.Minute
)

// ownerIndex keeps the inode -> owners map between polls. Reading every
// process's descriptors costs about 3.6 us a descriptor, so a poll reads
// only the processes that are new, a slice of the rest (fullWalkEvery),
// and, when a socket's owner is unknown, the processes most likely to hold
// it until it is found (search). Every process is read at once only at the
// first poll, and when a search for a socket found no owner anywhere.
type ownerIndex struct {
	procRoot string
	// byInode has each socket's lowest owning pid; shared lists every owner
	// of the few sockets held by more than one process. A busy server has
	// 60,000 sockets with one owner each: a pid apiece is all they cost.
	byInode map[uint64]int32
	shared  map[uint64][]int32
	ofPID   map[int32][]heldSocket // what each walked process held, and at which descriptor
	meta    map[int32]pidMeta      // what else a walk of each process learnt: hints for the search
	orphans map[uint64]bool        // inodes no process held when every process was last read
	spare   map[uint64]bool        // orphans' other buffer, for pruning it without allocating
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
	// The periodic walk: when the last poll was, the processes owed to the
	// walk since (a fraction carried over), and the last pid it read.
	lastPoll time.Time
	owed     int64
	cursor   int32
	// polls numbers the updates (and a seed); meta's walked and gained
	// are such numbers, seeded the seed's.
	polls, seeded uint64
	// The search's memory, kept between polls: the inodes sought, their
	// sockets' uids, the processes in the order they are read.
	want    map[uint64]struct{}
	uids    []uint32
	order   []candidate
	readBuf []heldSocket // what seek reads into, before it is merged
	// scratch is each reading goroutine's buffers (fdScratch).
	scratch [maxWalkers]fdScratch
	// Counters for tests and benchmarks: full walks, processes read, and
	// processes the periodic walk passed by as unchanged.
	fullWalks, pidWalks, fdsRead, passedBy int
	// now is the time of the poll being updated.
	now time.Time
}

// pidMeta is what the index knows of a process besides its sockets: when
// it was last read (a poll number), the last poll at which a read found it
// holding a socket no process was known to hold (a server accepting
// connections: the likeliest owner of the next new socket), and its fd
// directory's hints (fdDir).
type pidMeta struct {
	walked, gained uint64
	dir            fdDir
	read           int // directory entries its last read read: for tests
	// whole is the fd directory as the last read of every descriptor found
	// it, and wholeAt when that was: the periodic walk's check (unchanged).
	whole   fdDir
	wholeAt time.Time
}

// maxUIDs bounds the uids a search ranks processes by: beyond them, the
// uid hint is dropped for the rest (the order only, never the result).
const maxUIDs = 16

// pidInode is one process's hold on one socket.
type pidInode struct {
	pid int32
	ino uint64
}

func newOwnerIndex(procRoot string) *ownerIndex {
	return &ownerIndex{procRoot: procRoot, byInode: map[uint64]int32{}, shared: map[uint64][]int32{}, ofPID: map[int32][]heldSocket{},
		meta: map[int32]pidMeta{}, orphans: map[uint64]bool{}, spare: map[uint64]bool{}, denied: map[int32]string{},
		listenerFD: map[pidInode]int32{}, stdio: map[int32][3]uint64{}, want: map[uint64]struct{}{}}
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

// update brings the map up to date for this poll's processes (pids, lowest
// first) and sockets: new processes are read, the exited forgotten, the
// periodic walk's slice read again, then any socket whose owner is still
// unknown is searched for.
func (ix *ownerIndex) update(pids []int32, socks []sockets.Socket, now time.Time) {
	ix.fresh = ix.fresh[:0]
	ix.polls++
	ix.now = now
	defer func() { ix.lastPoll = now }()
	seeded := ix.seeded != 0 && ix.seeded == ix.polls-1
	if ix.lastFull.IsZero() && !seeded {
		ix.fullWalk(pids, socks, now)
		return
	}
	if ix.lastFull.IsZero() { // every process read early (seed): as a full walk, done
		ix.lastFull, ix.lastPoll = now, now
		ix.fullWalks++
	}
	for _, pid := range pids {
		if _, seen := ix.meta[pid]; !seen { // read once already, even if it failed
			ix.walk(pid)
		}
	}
	for pid := range ix.meta {
		if !listed(pids, pid) {
			ix.forget(pid)
			delete(ix.denied, pid)
			delete(ix.meta, pid)
		}
	}
	ix.walkSlice(pids, socks, now)
	ix.findMissing(pids, socks, now)
}

// listed: is pid in pids (lowest first)?
func listed(pids []int32, pid int32) bool {
	_, found := slices.BinarySearch(pids, pid)
	return found
}

// walkSlice reads again the processes the periodic walk owes this poll:
// as many as make every process read once in fullWalkEvery, at the polls'
// pace, after the last one it read. Once round, orphans that are no longer
// listed are let go of.
func (ix *ownerIndex) walkSlice(pids []int32, socks []sockets.Socket, now time.Time) {
	// In integers (processes times nanoseconds), so that the slices of
	// fullWalkEvery's polls add up to every process exactly.
	ix.owed += int64(len(pids)) * int64(min(max(now.Sub(ix.lastPoll), 0), fullWalkEvery))
	n := min(int(ix.owed/int64(fullWalkEvery)), len(pids))
	ix.owed -= int64(n) * int64(fullWalkEvery)
	ix.owed = min(ix.owed, int64(fullWalkEvery)) // what is owed beyond a round is not carried over
	i, _ := slices.BinarySearch(pids, ix.cursor+1)
	for ; n > 0; n-- {
		if i >= len(pids) {
			i = 0
			ix.pruneOrphans(socks)
		}
		pid := pids[i]
		i++
		ix.cursor = pid
		if ix.meta[pid].walked != ix.polls && !ix.unchanged(pid, now) {
			ix.rewalk(pid)
		}
	}
}

// unchanged says whether a process with many descriptors, read whole less
// than bigUnchangedFor ago, is still the same process with as many
// descriptors (see bigProcess), so that the periodic walk may pass it by.
// A directory that cannot be asked is read.
func (ix *ownerIndex) unchanged(pid int32, now time.Time) bool {
	m := ix.meta[pid]
	if m.whole.count < bigProcess || m.whole.ino == 0 || now.Sub(m.wholeAt) >= bigUnchangedFor {
		return false
	}
	dir, ok := ix.scratch[0].fdDirOf(ix.procRoot, pid)
	if !ok || dir != m.whole {
		return false
	}
	ix.passedBy++
	return true
}

// pruneOrphans drops the orphans no longer listed (an orphan found held
// is dropped when it is, by record): a pass over the sockets, once round
// the periodic walk.
func (ix *ownerIndex) pruneOrphans(socks []sockets.Socket) {
	next := ix.spare
	clear(next)
	for i := range socks {
		if ino := socks[i].Inode; ix.orphans[ino] {
			next[ino] = true
		}
	}
	ix.spare, ix.orphans = ix.orphans, next
}

// findMissing searches for the owners of this poll's sockets that no
// process is known to hold and that were not orphans already.
func (ix *ownerIndex) findMissing(pids []int32, socks []sockets.Socket, now time.Time) {
	clear(ix.want)
	ix.uids = ix.uids[:0]
	for i := range socks {
		s := &socks[i]
		if s.Inode == 0 || ix.owned(s.Inode) || ix.orphans[s.Inode] {
			continue
		}
		ix.want[s.Inode] = struct{}{}
		if len(ix.uids) < maxUIDs && !slices.Contains(ix.uids, s.UID) {
			ix.uids = append(ix.uids, s.UID)
		}
	}
	if len(ix.want) > 0 {
		ix.search(pids, socks, now)
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
	read := readDescriptorsWith(ix.scratch[:], ix.procRoot, pids)
	for i, pid := range pids {
		ix.record(pid, read[i])
	}
	ix.endRound(socks)
	ix.lastFull = now
	ix.fullWalks++
}

// endRound follows a poll at which every process was read: the sockets
// still held by none are the orphans now, and those that were not before
// are fresh (their owner may have exited since the listing).
func (ix *ownerIndex) endRound(socks []sockets.Socket) {
	before, next := ix.orphans, ix.spare
	clear(next)
	ix.fresh = ix.fresh[:0]
	for i := range socks {
		if ino := socks[i].Inode; ino != 0 && !ix.owned(ino) {
			next[ino] = true
			if !before[ino] {
				ix.fresh = append(ix.fresh, ino)
			}
		}
	}
	ix.spare, ix.orphans = before, next
}

// walk reads one process's descriptors; a process that has exited is
// skipped, one whose descriptors may not be read is recorded as denied.
func (ix *ownerIndex) walk(pid int32) {
	var d described
	sc := &ix.scratch[0]
	before := sc.read
	d.held, d.dir, d.err = sc.socketInodes(ix.procRoot, pid, nil)
	d.read, d.whole = sc.read-before, true
	ix.record(pid, d)
}

// rewalk reads again the descriptors of a process read before, in the
// memory of its last list.
func (ix *ownerIndex) rewalk(pid int32) {
	old := ix.ofPID[pid]
	ix.forget(pid)
	delete(ix.denied, pid)
	var d described
	sc := &ix.scratch[0]
	before := sc.read
	d.held, d.dir, d.err = sc.socketInodes(ix.procRoot, pid, old)
	d.read, d.whole = sc.read-before, true
	ix.record(pid, d)
}

// described is one process's descriptors as readDescriptors read them.
type described struct {
	held []heldSocket
	dir  fdDir
	read int // directory entries read
	err  error
	// whole: every descriptor was read (a search may stop early).
	whole bool
}

// maxWalkers bounds the goroutines reading descriptors at once.
const maxWalkers = 4

// readDescriptors reads the socket descriptors of every pid, in order, on
// as many goroutines as there are cores (at most maxWalkers).
func readDescriptors(procRoot string, pids []int32) []described {
	var scratch [maxWalkers]fdScratch
	return readDescriptorsWith(scratch[:], procRoot, pids)
}

// readDescriptorsWith is readDescriptors with a scratch per goroutine: at
// 100,000 connections a full walk is 200,000 stats of /proc/PID/fd, most
// of a first poll, and each process is read on its own. What was read is
// recorded afterwards, in the pids' order, on one goroutine (record), so
// the index comes out as a walk one process after another makes it.
func readDescriptorsWith(scratch []fdScratch, procRoot string, pids []int32) []described {
	out := make([]described, len(pids))
	read := func(sc *fdScratch, i int) {
		before := sc.read
		out[i].held, out[i].dir, out[i].err = sc.socketInodes(procRoot, pids[i], nil)
		out[i].read, out[i].whole = sc.read-before, true
	}
	workers := min(runtime.GOMAXPROCS(0), len(scratch), len(pids))
	if workers <= 1 {
		for i := range pids {
			read(&scratch[0], i)
		}
		return out
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	wg.Add(workers)
	for w := range workers {
		go func() {
			defer wg.Done()
			sc := &scratch[w]
			for i := int(next.Add(1) - 1); i < len(pids); i = int(next.Add(1) - 1) {
				read(sc, i)
			}
		}()
	}
	wg.Wait()
	return out
}

// record notes what one process's descriptors held (read by walk or
// readDescriptors); a process that has exited is skipped, one whose
// descriptors may not be read is recorded as denied. A read that finds a
// socket no process was known to hold marks the process as gaining, the
// search's first hint.
func (ix *ownerIndex) record(pid int32, d described) {
	ix.pidWalks++
	ix.fdsRead += d.read
	m := ix.meta[pid]
	m.walked, m.dir, m.read = ix.polls, d.dir, d.read
	if d.whole && d.err == nil {
		m.whole, m.wholeAt = d.dir, ix.now
	} else {
		m.whole = fdDir{}
	}
	ix.meta[pid] = m
	if errors.Is(d.err, fs.ErrPermission) {
		ix.denied[pid] = unreadableReason(ix.procRoot, pid, d.err)
		return
	}
	if d.err != nil {
		return
	}
	ix.ofPID[pid] = d.held
	var stdio [3]uint64
	gained := false
	for _, h := range d.held {
		if _, sought := ix.want[h.ino]; sought {
			delete(ix.want, h.ino)
			gained = true
		}
		ix.add(h.ino, pid)
		delete(ix.orphans, h.ino)
		if h.fd >= 0 && h.fd < 3 {
			stdio[h.fd] = h.ino
		}
	}
	if gained {
		m.gained = ix.polls
		ix.meta[pid] = m
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
		ix.rewalk(pid)
	}
	ix.findMissing(pids, socks, now) // a listener left with no owner: its receiver
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
	if ix.scratch[0].stillHolds(ix.procRoot, pid, fd, ino) {
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

// listPIDs lists the processes under procRoot, lowest first.
func listPIDs(procRoot string) ([]int32, error) {
	var s fdScratch
	return s.appendPIDs(procRoot, nil)
}
