//go:build linux

package collect

// earlyWalk is the first poll's reading of every process's descriptors,
// started before the kernel's dump of the sockets so that the two run at
// once: listing the processes and reading /proc/PID/fd needs nothing from
// the dump, and at 100,000 connections the two are most of a first poll.
// A socket made after its owner was read is looked for once the dump is in
// (update's search, the processes whose descriptor count changed first),
// so the index comes out as exact as a walk after the dump makes it.
type earlyWalk struct {
	done chan struct{}
	pids []int32
	read []described
	err  error
}

// startEarly starts the early walk with the index's scratch buffers: the
// index must not be used until seed has waited for it.
func (ix *ownerIndex) startEarly() *earlyWalk {
	w := &earlyWalk{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		var sc fdScratch
		w.pids, w.err = sc.appendPIDs(ix.procRoot, nil)
		if w.err == nil {
			w.read = readDescriptorsWith(ix.scratch[:], ix.procRoot, w.pids)
		}
	}()
	return w
}

// wait waits for the early walk to end; the index may be used after.
func (w *earlyWalk) wait() { <-w.done }

// seed records what the early walk read, as a full walk does; update then
// reads the processes that started since, forgets those that ended, and
// searches for the sockets no read found (one that failed leaves the
// index as it was, for update's full walk).
func (ix *ownerIndex) seed(w *earlyWalk) {
	w.wait()
	if w.err != nil || !ix.lastFull.IsZero() {
		return
	}
	n := 0
	for i := range w.read {
		n += len(w.read[i].held)
	}
	ix.byInode = make(map[uint64]int32, n)
	ix.shared = map[uint64][]int32{}
	ix.ofPID = make(map[int32][]heldSocket, len(w.pids))
	ix.denied = map[int32]string{}
	clear(ix.listenerFD)
	clear(ix.stdio)
	ix.polls++
	for i, pid := range w.pids {
		ix.record(pid, w.read[i])
	}
	ix.seeded = ix.polls
}
