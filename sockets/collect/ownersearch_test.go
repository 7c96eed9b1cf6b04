//go:build linux

package collect

import (
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// socketOf is a listed socket as the index sees it: the inode and uid of
// a connection or listener of this process.
func socketOf(t *testing.T, c syscall.Conn, listening bool) sockets.Socket {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = syscall.Fstat(int(fd), &st) }); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	s := sockets.Socket{Inode: st.Ino, UID: uint32(os.Geteuid()), Proto: sockets.TCP, State: sockets.StateEstablished}
	if listening {
		s.State = sockets.StateListen
	}
	return s
}

// reread is what this poll read again of the processes in known (the
// last listing): how many, and how many descriptors. Processes new to the
// machine are read too, and a busy machine starts dozens a second.
func reread(ix *ownerIndex, known []int32) (procs, fds int) {
	for pid, m := range ix.meta {
		if m.walked == ix.polls && listed(known, pid) {
			procs++
			fds += m.read
		}
	}
	return procs, fds
}

// TestNewSocketIsFoundByReadingItsOwnerAlone: a process that opens a new
// connection each poll, among thirty others holding sockets of the same
// uid (and newer pids), has its new sockets found by reading it alone from
// the second poll on, not every process on the machine; a socket no
// process holds is looked for in every process once, then is an orphan
// and costs nothing more.
func TestNewSocketIsFoundByReadingItsOwnerAlone(t *testing.T) {
	ln := sockettest.Listen(t, "tcp4", "127.0.0.1:0")
	for range 30 {
		startChildHolding(t, ln)
	}
	self := int32(os.Getpid())
	mine := []sockets.Socket{socketOf(t, ln, true)}
	ix := newOwnerIndex("/proc")
	pids, err := listPIDs("/proc")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ix.update(pids, mine, now)
	one, _ := socketInodes("/proc", self) // what reading this process costs, about
	for poll := range 8 {
		c, s := sockettest.Connect(t, ln)
		mine = append(mine, socketOf(t, c, false), socketOf(t, s, false))
		known := pids
		if pids, err = listPIDs("/proc"); err != nil {
			t.Fatal(err)
		}
		full := ix.fullWalks
		now = now.Add(time.Millisecond) // not long enough for the periodic walk to owe a process
		ix.update(pids, mine, now)
		for _, s := range mine[len(mine)-2:] {
			var o [1]int32
			if got := ix.owners(s.Inode, &o); !slices.Equal(got, []int32{self}) {
				t.Fatalf("poll %d: the new connection's owners %v, want [%d]", poll, got, self)
			}
		}
		if ix.fullWalks != full {
			t.Errorf("poll %d: a full walk for a socket whose owner is known to hold sockets", poll)
		}
		procs, fds := reread(ix, known)
		t.Logf("poll %d: %d processes and %d descriptors read again (%d processes listed)", poll, procs, fds, len(pids))
		if poll == 0 {
			continue // the first search learns which process gains sockets
		}
		if procs > 1 {
			t.Errorf("poll %d: %d processes read again for one new connection, want this one (of %d)", poll, procs, len(pids))
		}
		if fds > len(one)+64 {
			t.Errorf("poll %d: %d descriptors read again for one new connection", poll, fds)
		}
	}
	// A socket no process holds: every process is read once, then never for it.
	nobody := sockets.Socket{Inode: 1 << 60, UID: uint32(os.Geteuid())}
	mine = append(mine, nobody)
	full := ix.fullWalks
	now = now.Add(time.Millisecond)
	ix.update(pids, mine, now)
	if ix.fullWalks != full+1 || !ix.orphans[nobody.Inode] {
		t.Fatalf("a socket nobody holds: %d full walks, orphan %v; want one, true", ix.fullWalks-full, ix.orphans[nobody.Inode])
	}
	walks := ix.pidWalks
	now = now.Add(time.Millisecond)
	ix.update(pids, mine, now)
	if n := ix.pidWalks - walks; n != 0 {
		t.Errorf("an orphan already known had %d processes read again", n)
	}
}

// TestPeriodicWalkReadsASliceEachPoll: a poll a second reads about a
// thirtieth of the processes again, never all of them at once, and after
// fullWalkEvery every process has been read again.
func TestPeriodicWalkReadsASliceEachPoll(t *testing.T) {
	ln := sockettest.Listen(t, "tcp4", "127.0.0.1:0")
	mine := []sockets.Socket{socketOf(t, ln, true)}
	ix := newOwnerIndex("/proc")
	pids, err := listPIDs("/proc") // the same list each poll: what is read is the periodic walk's alone
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ix.update(pids, mine, start)
	first := ix.polls
	slice := (len(pids)+int(fullWalkEvery/time.Second)-1)/int(fullWalkEvery/time.Second) + 1
	for s := 1; s <= int(fullWalkEvery/time.Second); s++ {
		walks := ix.pidWalks
		ix.update(pids, mine, start.Add(time.Duration(s)*time.Second))
		if n := ix.pidWalks - walks; n > slice {
			t.Errorf("second %d: %d of %d processes read, want at most %d", s, n, len(pids), slice)
		}
	}
	for _, pid := range pids {
		if m, ok := ix.meta[pid]; ok && m.walked <= first {
			t.Errorf("process %d not read again within %v", pid, fullWalkEvery)
		}
	}
	var o [1]int32
	if got := ix.owners(mine[0].Inode, &o); !slices.Contains(got, int32(os.Getpid())) {
		t.Errorf("our listener's owners %v after the periodic walk", got)
	}
}

// TestQuietOwnerPollAllocatesNothing: a poll with no new process and no
// new socket (listing the pids, bringing the index up to date, checking
// the listeners' owners, the processes' namespaces) allocates nothing,
// with few sockets or hundreds.
func TestQuietOwnerPollAllocatesNothing(t *testing.T) {
	if !alone(t) {
		return
	}
	ln := sockettest.Listen(t, "tcp4", "127.0.0.1:0")
	mine := []sockets.Socket{socketOf(t, ln, true)}
	measure := func() float64 {
		ix := newOwnerIndex("/proc")
		pids, err := listPIDs("/proc") // the same list each poll: the machine's new processes are not this test's
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		ix.update(pids, mine, now)
		var sc fdScratch
		nx := newNetnsIndex("/proc")
		nx.update(pids)
		listing := make([]int32, 0, len(pids)+8192)
		best := -1.0
		for range 3 { // the least of three: another goroutine's allocations count too
			n := testing.AllocsPerRun(20, func() {
				listing, _ = sc.appendPIDs("/proc", listing)
				ix.update(pids, mine, now)
				ix.checkListeners(pids, mine, now)
				nx.update(pids)
				nx.foreign()
			})
			if best < 0 || n < best {
				best = n
			}
		}
		return best
	}
	if n := measure(); n != 0 {
		t.Errorf("a quiet poll with one listener allocates %v times", n)
	}
	for range 200 {
		c, s := sockettest.Connect(t, ln)
		mine = append(mine, socketOf(t, c, false), socketOf(t, s, false))
	}
	if n := measure(); n != 0 {
		t.Errorf("a quiet poll with %d sockets allocates %v times", len(mine), n)
	}
}

// TestEarlyWalkThenSocketsMadeMeanwhile: the first poll's early walk reads
// every process while the dump runs; a socket a process made after it was
// read is found by reading that process again (its count of descriptors
// changed), not every process, and the index is exact. The process is a
// shell that opens a UDP socket when told, among ten others of the same
// uid holding a socket each.
func TestEarlyWalkThenSocketsMadeMeanwhile(t *testing.T) {
	ln := sockettest.Listen(t, "tcp4", "127.0.0.1:0")
	for range 10 {
		startChildHolding(t, ln)
	}
	shell := startFD7Shell(t, "")
	pid := shell.pid
	ix := newOwnerIndex("/proc")
	w := ix.startEarly()
	w.wait()
	st := shell.swap(t)
	made := sockets.Socket{Inode: st.Ino, UID: uint32(os.Geteuid())}
	mine := []sockets.Socket{socketOf(t, ln, true), made}
	ix.seed(w)
	early := ix.pidWalks
	known := w.pids
	pids, err := listPIDs("/proc")
	if err != nil {
		t.Fatal(err)
	}
	ix.update(pids, mine, time.Now())
	var o [1]int32
	if got := ix.owners(made.Inode, &o); !slices.Equal(got, []int32{pid}) {
		t.Errorf("the socket made after the early walk: owners %v, want [%d]", got, pid)
	}
	if got := ix.owners(mine[0].Inode, &o); len(got) != 11 {
		t.Errorf("the listener: owners %v, want this process and its ten children", got)
	}
	if ix.fullWalks != 1 {
		t.Errorf("%d full walks, want the early one alone", ix.fullWalks)
	}
	if n, _ := reread(ix, known); n > 1 {
		t.Errorf("%d processes read again after the early walk of %d, want the shell", n, early)
	}
}

// TestFirstSnapshotReadsOwnersDuringTheDump: the first poll's walk of
// every process is the early one, started before the dump (seeded), and
// the only full walk; the owners it finds are right.
func TestFirstSnapshotReadsOwnersDuringTheDump(t *testing.T) {
	if !netlinkWorks() {
		t.Skip("netlink sock_diag is not available here")
	}
	ln := sockettest.Listen(t, "tcp4", "127.0.0.1:0")
	src := newLive("/proc", MethodNetlink)
	s := findOne(t, snapshot(t, src), sockets.TCP, sockettest.AddrPort(ln.Addr()), netip.AddrPort{})
	if !hasOwner(s, os.Getpid()) {
		t.Errorf("our listener's owners %v", s.Owners)
	}
	if src.index.seeded == 0 || src.index.fullWalks != 1 {
		t.Errorf("the first poll: seeded at %d, %d full walks; want the early walk, alone", src.index.seeded, src.index.fullWalks)
	}
}

// TestSearchStopsAtTheNewSocket: a server holding hundreds of connections
// that closes one and accepts another each poll (the new one gets the
// lowest descriptors free) has its list read only as far as the new
// sockets, not whole, and every socket it holds is still its.
func TestSearchStopsAtTheNewSocket(t *testing.T) {
	ln := sockettest.Listen(t, "tcp4", "127.0.0.1:0")
	type pair struct{ c, s *net.TCPConn }
	var open []pair
	var mine []sockets.Socket
	for range 200 {
		c, s := sockettest.Connect(t, ln)
		open = append(open, pair{c, s})
		mine = append(mine, socketOf(t, c, false), socketOf(t, s, false))
	}
	mine = append(mine, socketOf(t, ln, true))
	self := int32(os.Getpid())
	ix := newOwnerIndex("/proc")
	pids, err := listPIDs("/proc")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ix.update(pids, mine, now)
	whole := len(ix.ofPID[self])
	for poll := range 5 {
		gone := open[poll]
		gone.c.Close()
		gone.s.Close()
		c, s := sockettest.Connect(t, ln)
		mine[2*poll], mine[2*poll+1] = socketOf(t, c, false), socketOf(t, s, false)
		fds := ix.fdsRead
		now = now.Add(time.Millisecond)
		ix.update(pids, mine, now)
		t.Logf("poll %d: %d descriptors read, of %d sockets held", poll, ix.fdsRead-fds, whole)
		if n := ix.fdsRead - fds; n > whole/2 {
			t.Errorf("poll %d: %d descriptors read to find a new connection, of the %d sockets this process holds", poll, n, whole)
		}
		var o [1]int32
		for _, s := range mine {
			if got := ix.owners(s.Inode, &o); !slices.Contains(got, self) {
				t.Fatalf("poll %d: socket %d has owners %v, want this process among them", poll, s.Inode, got)
			}
		}
	}
}

// TestMergeHeld: a read that stopped at a descriptor keeps the earlier
// list past it, in order, whether the head grew or shrank, in the old
// array or a new one.
func TestMergeHeld(t *testing.T) {
	h := func(fds ...int32) []heldSocket {
		var out []heldSocket
		for _, fd := range fds {
			out = append(out, heldSocket{uint64(fd) * 10, fd})
		}
		return out
	}
	for _, c := range []struct {
		old, head []heldSocket
		last      int32
		want      []heldSocket
	}{
		{h(3, 5, 7, 9), h(3, 4, 5, 6), 6, h(3, 4, 5, 6, 7, 9)}, // the head grew
		{h(3, 5, 7, 9), h(5), 5, h(5, 7, 9)},                   // it shrank
		{h(3, 5, 7, 9), h(4), -1, h(4)},                        // read whole
		{h(), h(1, 2), 2, h(1, 2)},
		{h(3, 5, 7, 9), h(), 9, h()},
	} {
		old := slices.Clip(slices.Clone(c.old))
		if got := mergeHeld(old, c.head, c.last); !slices.Equal(got, c.want) {
			t.Errorf("mergeHeld(%v, %v, %d) = %v, want %v", c.old, c.head, c.last, got, c.want)
		}
		roomy := append(make([]heldSocket, 0, 16), c.old...)
		if got := mergeHeld(roomy, c.head, c.last); !slices.Equal(got, c.want) {
			t.Errorf("in place: mergeHeld(%v, %v, %d) = %v, want %v", c.old, c.head, c.last, got, c.want)
		}
	}
}

// TestEarlyWalkSwapThatKeepsTheCount: a process that, while the first
// poll's dump runs, replaces a descriptor by a socket (its count of
// descriptors unchanged) is skipped by that poll's search, but its socket
// is no orphan: the next poll finds its owner, not the periodic walk 30 s
// later.
func TestEarlyWalkSwapThatKeepsTheCount(t *testing.T) {
	shell := startFD7Shell(t, "exec 7</dev/null; ")
	pid := shell.pid
	shell.waitMode(t, syscall.S_IFCHR) // /dev/null, before the early walk
	ix := newOwnerIndex("/proc")
	w := ix.startEarly()
	w.wait()
	st := shell.swap(t)
	made := sockets.Socket{Inode: st.Ino, UID: uint32(os.Geteuid())}
	mine := []sockets.Socket{made}
	ix.seed(w)
	for poll := 1; poll <= 2; poll++ {
		pids, err := listPIDs("/proc")
		if err != nil {
			t.Fatal(err)
		}
		ix.update(pids, mine, time.Now())
		var o [1]int32
		got := ix.owners(made.Inode, &o)
		t.Logf("poll %d: owners %v", poll, got)
		if poll == 2 && !slices.Equal(got, []int32{pid}) {
			t.Errorf("the socket swapped in after the early walk: owners %v at the second poll, want [%d]", got, pid)
		}
	}
}

// TestSearchReadsAPidOnceRefused: a socket sought is looked for in a
// process whose last read was refused too (last): its pid may be a new,
// readable process's (another user's exited, the pid reused), and the
// socket its. (The search skipped such pids; here the socket is found
// even so, by another path, so this test guards the outcome, not the
// search's ranking.)
func TestSearchReadsAPidOnceRefused(t *testing.T) {
	shell := startFD7Shell(t, "")
	pid := shell.pid
	ix := newOwnerIndex("/proc")
	pids, err := listPIDs("/proc")
	if err != nil {
		t.Fatal(err)
	}
	first := time.Now()
	ix.update(pids, nil, first) // the first poll: every process read
	ix.denied[pid] = "permission denied (as when another user's process had this pid)"
	st := shell.swap(t)
	// A millisecond later: the periodic walk's slice reads no process.
	ix.update(pids, []sockets.Socket{{Inode: st.Ino, UID: uint32(os.Geteuid())}}, first.Add(time.Millisecond))
	var o [1]int32
	if got := ix.owners(st.Ino, &o); !slices.Equal(got, []int32{pid}) {
		t.Errorf("the socket of a process whose last read was refused: owners %v, want [%d]", got, pid)
	}
}

// fd7Shell is a bash child that, told to (swap), makes its descriptor 7 a
// UDP socket: a socket made at a moment the test chooses. before runs
// first (an "exec 7</dev/null" keeps the count of descriptors the same).
type fd7Shell struct {
	pid  int32
	tell io.Writer
	link string
}

func startFD7Shell(t *testing.T, before string) *fd7Shell {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("needs bash (its /dev/udp)")
	}
	shell := exec.Command(bash, "-c", before+"read -r _; exec 7<>/dev/udp/127.0.0.1/9; exec sleep 60")
	tell, err := shell.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := shell.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shell.Process.Kill(); shell.Wait() })
	pid := int32(shell.Process.Pid)
	return &fd7Shell{pid: pid, tell: tell, link: "/proc/" + strconv.Itoa(int(pid)) + "/fd/7"}
}

// swap tells the shell to make its socket, and waits for it.
func (sh *fd7Shell) swap(t *testing.T) syscall.Stat_t {
	t.Helper()
	if _, err := sh.tell.Write([]byte("now\n")); err != nil {
		t.Fatal(err)
	}
	return sh.waitMode(t, syscall.S_IFSOCK)
}

// waitMode waits for descriptor 7 to be a file of that mode.
func (sh *fd7Shell) waitMode(t *testing.T, mode uint32) syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	for deadline := time.Now().Add(10 * time.Second); syscall.Stat(sh.link, &st) != nil || st.Mode&syscall.S_IFMT != mode; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the shell's descriptor 7 never had mode %o", mode)
		}
	}
	return st
}
