//go:build linux

package collect

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/firewall"
	"golang.org/x/sys/unix"
)

// The ways a snapshot's sockets are listed, as Snapshot.Method names them.
const (
	MethodNetlink = "netlink" // sock_diag, with the owner map kept between polls
	MethodProcfs  = "procfs"  // /proc/net/{tcp,udp}{,6}, with the owner map kept between polls
	// MethodReference reads /proc/net and walks every process's descriptors
	// on every poll: slow, simple, and what the fast path is tested against.
	MethodReference = "reference"
)

// Live reads the machine this process runs on. It keeps its caches between
// polls; Snapshot may be called from any goroutine, one call at a time being
// served (a second waits for the first).
type Live struct {
	mu       sync.Mutex
	method   string
	procRoot string
	procs    *processCache
	index    *ownerIndex
	netns    *netnsIndex
	netlink  *netlinkLister
	// foreign lists the other network namespaces by netlink, from inside
	// each; nil when portwatch may not enter them (or lists by /proc).
	foreign        *netlinkLister
	members        map[uint64][]int32 // this poll's other namespaces, with their processes
	lastUnreadable *sockets.UnreadableOwners
	euid           int
	dualStack      bool
	spare          []sockets.Socket // a recycled snapshot's array, for the next poll
	dedupe         deduper          // drops a socket the kernel listed twice in one poll
	// pids is this poll's processes, lowest first, its array reused poll
	// after poll (read with scratch's buffers): nothing keeps it past a poll.
	pids    []int32
	scratch fdScratch
	// firewalls reads each namespace's nftables ruleset, again only when
	// its generation changed; nil when the Live was made without it.
	firewalls *firewall.Cache
	fw        *fwReader // the background rounds over firewalls
	// Test seams: afterList runs once the sockets are listed, beforeOwners
	// once the owner index is up to date, so that a test can end an owner
	// at exactly that moment of a poll.
	afterList, beforeOwners func()
}

// NewLive returns the fastest Source that works here: netlink sock_diag,
// else the /proc/net tables. The first poll that netlink refuses switches
// to /proc for good (PORTWATCH_NO_NETLINK=1 starts there: for tests and for
// kernels whose sock_diag misbehaves).
func NewLive() *Live {
	method := MethodNetlink
	if os.Getenv("PORTWATCH_NO_NETLINK") != "" {
		method = MethodProcfs
	}
	l := newLive("/proc", method)
	l.firewalls = &firewall.Cache{} // the ruleset of each namespace, read again only when it changed
	if os.Getenv("PORTWATCH_NO_COUNTERS") != "" {
		l.SetCounters(false)
	}
	if os.Getenv("PORTWATCH_NO_PROC_EVENTS") == "" {
		l.listenProcEvents()
	}
	return l
}

// listenProcEvents has the process cache told by the kernel which processes changed
// (procevents_linux.go), where the connector can be opened at all; whether the kernel then
// agrees is known later, and until it does every owner's stat is read as without it. The
// listener is closed by Close, or when the Live is collected.
func (l *Live) listenProcEvents() {
	ev, err := openProcEvents()
	if err != nil {
		return
	}
	l.procs.events = ev
	runtime.AddCleanup(l, (*procEvents).Close, ev)
}

// Close lets go of what the Live holds open beyond its polls: the process events listener.
func (l *Live) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.procs.events != nil {
		l.procs.events.Close()
		l.procs.events = nil
	}
	return nil
}

// SetCounters says whether the dumps ask for every TCP connection's
// counters (tcp_info: Socket.Traffic), which they do by default.
// PORTWATCH_NO_COUNTERS=1 starts without them: the benchmarks compare the
// two.
func (l *Live) SetCounters(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, nl := range []*netlinkLister{l.netlink, l.foreign} {
		if nl != nil {
			nl.counters = on
		}
	}
}

// WantCounters says whether the next snapshots ask for the TCP counters
// (where SetCounters left them on): the monitor asks for them while
// something moves, and now and then while nothing does
// (traffic.Tracker.Wants), as they make the kernel's dump a third dearer.
// A snapshot says whether it has them (Snapshot.Counters).
func (l *Live) WantCounters(want bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, nl := range []*netlinkLister{l.netlink, l.foreign} {
		if nl != nil {
			nl.skip = !want
		}
	}
}

// Dumper lists the sockets of portwatch's network namespace by netlink
// sock_diag and does nothing more: no owner, no other namespace. It is the
// floor of a poll, which bench/pollbench measures with the counters and
// without.
type Dumper struct {
	l     *netlinkLister
	socks []sockets.Socket
}

// NewDumper returns a Dumper that asks for the TCP counters or not.
func NewDumper(counters bool) *Dumper {
	l := newNetlinkLister()
	l.counters = counters
	return &Dumper{l: l}
}

// Dump lists the sockets once and says how many there were.
func (d *Dumper) Dump() (int, error) {
	socks, err := d.l.list(d.socks, false)
	if err != nil {
		return 0, err
	}
	d.socks = socks
	return len(socks), nil
}

// NewReference returns the reference Source: every poll reads /proc/net and
// walks every process's descriptors.
func NewReference() *Live { return newLive("/proc", MethodReference) }

func newLive(procRoot, method string) *Live {
	l := &Live{
		method:   method,
		procRoot: procRoot,
		procs:    newProcessCache(procRoot),
		index:    newOwnerIndex(procRoot),
		netns:    newNetnsIndex(procRoot),
		euid:     os.Geteuid(),
		// With net.ipv6.bindv6only=0 (the default) an IPv6 wildcard listener
		// accepts IPv4 too, unless the program set IPV6_V6ONLY itself; only
		// netlink can tell which.
		dualStack: readSysctl(filepath.Join(procRoot, "sys/net/ipv6/bindv6only")) != "1",
	}
	// Through l: the reference source makes a new index every poll.
	l.procs.stdio = func(pid int32) [3]uint64 { return l.index.stdioOf(pid) }
	if method == MethodNetlink {
		l.netlink, l.foreign = newNetlinkLister(), newNetlinkLister()
	}
	return l
}

// Recycle takes back a snapshot's sockets; the snapshot must not be used
// after.
func (l *Live) Recycle(snap *sockets.Snapshot) {
	if snap == nil || cap(snap.Sockets) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range snap.Sockets { // let go of owners and labels now
		snap.Sockets[i] = sockets.Socket{}
	}
	l.spare = snap.Sockets[:0]
	snap.Sockets = nil
}

// Method says how this source lists
func (l *Live) Method() string { return l.method }

// Snapshot lists every TCP and UDP socket with its owners: those of
// portwatch's own network namespace, then those of every other namespace it
// can see (containers, ip netns), each labelled with where it lives.
func (l *Live) Snapshot(ctx context.Context) (*sockets.Snapshot, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := time.Now()
	var early *earlyWalk
	if l.method != MethodReference && l.index.lastFull.IsZero() {
		early = l.index.startEarly() // the first poll: every process's descriptors read while the dump runs
		defer early.wait()           // the index is the walk's until then, whatever happens
	}
	socks, err := l.list()
	if err != nil {
		return nil, err
	}
	if early != nil {
		l.index.seed(early)
	}
	socks = l.dedupe.dedupe(socks)
	pids, err := l.scratch.appendPIDs(l.procRoot, l.pids)
	if err != nil {
		return nil, err
	}
	l.pids = pids // kept for the next poll: nothing holds it past this one
	for i := range socks {
		socks[i].Netns, socks[i].NetnsInode = sockets.HostNetns, l.netns.self
	}
	hostCount := len(socks)
	socks = l.appendForeignNamespaces(socks, pids)
	if l.afterList != nil {
		l.afterList()
	}
	if l.method == MethodReference {
		l.index = newOwnerIndex(l.procRoot) // forget everything: walk it all
	}
	l.index.update(pids, socks, start)
	l.index.checkListeners(pids, socks, start)
	gone := l.vanished(socks)
	if l.beforeOwners != nil {
		l.beforeOwners()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	snap := &sockets.Snapshot{Taken: start, Root: l.euid == 0, Method: l.method, Counters: l.netlink != nil && l.netlink.withCounters()}
	snap.Unreadable = l.index.unreadable(l.lastUnreadable)
	l.lastUnreadable = snap.Unreadable
	// Most sockets have one owner, and a server has thousands with the same
	// one: they share one read-only owners slice.
	single := map[int32][]*sockets.Process{}
	var one [1]int32
	l.procs.begin(start)
	for i := range socks {
		l.attachOwners(ctx, &socks[i], l.index.owners(socks[i].Inode, &one), snap, single, gone)
	}
	l.procs.sweep()
	// As root a refusal is a process outside our view, not a permission.
	if n := len(l.netns.denied); n > 0 && !snap.Root {
		snap.NetnsSkipped = n
	}
	// Inbound or outbound is judged within each namespace.
	sockets.SetDirections(socks[:hostCount])
	for i := hostCount; i < len(socks); {
		j := i
		for j < len(socks) && socks[j].NetnsInode == socks[i].NetnsInode {
			j++
		}
		sockets.SetDirections(socks[i:j])
		i = j
	}
	snap.Sockets = socks
	snap.Firewalls, snap.Published = l.readFirewalls(socks)
	snap.TCPStats = l.readTCPStats(socks)
	snap.Took = time.Since(start)
	return snap, nil
}

// readFirewalls hands out the firewall of every namespace that has a
// listener, read and judged in the background through one of its processes
// (pid 0: our own) by the rounds of fwbudget.go. A ruleset that cannot be
// read (not root) still answers, with unknown verdicts saying why; a
// namespace whose ruleset could not even be asked for has none. Namespaces
// gone since the last poll are forgotten, their netlink sockets closed. The
// rounds also find the ports each namespace publishes (DNAT), judged
// through the forward path.
func (l *Live) readFirewalls(socks []sockets.Socket) (map[uint64]sockets.Firewall, []sockets.Published) {
	if l.firewalls == nil {
		return nil, nil
	}
	if l.fw == nil {
		l.fw = newFWReader(l.firewalls)
	}
	wants := l.fw.wantsOf(socks, l.netns.self, l.members)
	exist := func(ino uint64) bool { return ino == l.netns.self || len(l.members[ino]) > 0 }
	return l.fw.poll(l.netns.self, wants, exist, socks)
}

// appendForeignNamespaces adds the sockets of every other network
// namespace, read through one of its processes. A member that exits
// meanwhile is replaced by the next.
func (l *Live) appendForeignNamespaces(socks []sockets.Socket, pids []int32) []sockets.Socket {
	l.netns.update(pids)
	inodes, members := l.netns.foreign()
	l.members = members
	for _, ino := range inodes {
		label := l.netns.label(ino, members[ino])
		got, ok := l.listNetns(members[ino])
		if !ok {
			continue
		}
		got = l.dedupe.dedupe(got)
		for i := range got {
			got[i].Netns, got[i].NetnsInode = label, ino
		}
		socks = append(socks, got...)
	}
	return socks
}

// listNetns lists the sockets of another network namespace through the
// first of its members still alive: by netlink from a socket opened inside
// the namespace where portwatch may enter it (root), which reads
// IPV6_V6ONLY exactly and is the fast path there too; else from the
// member's /proc/PID/net tables, with dual-stack guessed. ok is false when
// no member could be read.
func (l *Live) listNetns(members []int32) (socks []sockets.Socket, ok bool) {
	for _, pid := range members {
		dir := filepath.Join(l.procRoot, strconv.Itoa(int(pid)))
		if l.netlink != nil && l.foreign != nil {
			got, err := l.foreign.listIn(filepath.Join(dir, "ns/net"))
			switch {
			case err == nil:
				return got, true
			case errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH):
				continue // the member has exited: the next one
			case errors.Is(err, unix.EPERM):
				l.foreign = nil // no CAP_SYS_ADMIN: no namespace may be entered, now or later
			}
			// Otherwise this namespace refused sock_diag: its tables, this once.
		}
		got, err := readProcNet(filepath.Join(dir, "net"), l.dualStack)
		if err == nil {
			return got, true
		}
	}
	return nil, false
}

// vanished checks the sockets that this poll's full walk found held by no
// process where no earlier walk had: their owner may have exited between
// the listing and the walk. Their namespaces are listed again, and those
// no longer there were closed meanwhile: their owner is gone, not outside,
// and they are not recorded as held by no process, so the next poll looks
// for them again (should they still be listed). This costs a listing, and
// only after a full walk that met a new socket without an owner.
func (l *Live) vanished(socks []sockets.Socket) map[uint64]bool {
	if len(l.index.fresh) == 0 {
		return nil
	}
	unsure := make(map[uint64]bool, len(l.index.fresh))
	for _, ino := range l.index.fresh {
		unsure[ino] = true
	}
	namespaces := map[uint64]bool{}
	for i := range socks {
		if unsure[socks[i].Inode] {
			namespaces[socks[i].NetnsInode] = true
		}
	}
	for ns := range namespaces {
		var again []sockets.Socket
		var err error
		if ns == l.netns.self {
			again, err = l.listAgain()
		} else if got, ok := l.listNetns(l.members[ns]); ok {
			again = got
		} else {
			err = errNoListing
		}
		if err != nil { // cannot tell: none of them is said to be gone
			for i := range socks {
				if socks[i].NetnsInode == ns {
					delete(unsure, socks[i].Inode)
				}
			}
			continue
		}
		for i := range again {
			delete(unsure, again[i].Inode)
		}
	}
	for ino := range unsure {
		delete(l.index.orphans, ino)
	}
	return unsure
}

// errNoListing: no process of a namespace could be read.
var errNoListing = errors.New("no member of the namespace could be read")

// listAgain lists portwatch's own namespace once more, leaving the source's
// method and recycled array as they are.
func (l *Live) listAgain() ([]sockets.Socket, error) {
	if l.netlink != nil {
		return l.netlink.list(nil, false)
	}
	return readProcNet(filepath.Join(l.procRoot, "self/net"), l.dualStack)
}

// list reads the socket tables; if netlink fails mid-life (a seccomp
// profile, a changed namespace), the source falls back to /proc for good.
func (l *Live) list() ([]sockets.Socket, error) {
	spare := l.spare // only netlink refills it; /proc's parser makes its own
	l.spare = nil
	if l.netlink != nil && spare == nil && l.netlink.last == 0 {
		spare = make([]sockets.Socket, 0, sizeHint(l.procRoot)+64) // the first listing
	}
	if l.netlink != nil {
		socks, err := l.netlink.list(spare, false)
		if err == nil {
			return socks, nil
		}
		if !errors.Is(err, errNetlinkUnavailable) {
			return nil, err
		}
		l.netlink, l.method = nil, MethodProcfs
	}
	return readProcNet(filepath.Join(l.procRoot, "self/net"), l.dualStack)
}

// attachOwners names the processes holding a socket, and says truly why
// there are none when there are none. gone lists the sockets closed between
// the listing and the walk.
func (l *Live) attachOwners(ctx context.Context, s *sockets.Socket, pids []int32, snap *sockets.Snapshot, single map[int32][]*sockets.Process, gone map[uint64]bool) {
	if len(pids) == 1 {
		owners, ok := single[pids[0]]
		if !ok {
			if p := l.procs.get(ctx, pids[0]); p != nil {
				owners = []*sockets.Process{p}
			}
			single[pids[0]] = owners
		}
		s.Owners = owners
	} else {
		for _, pid := range pids {
			if p := l.procs.get(ctx, pid); p != nil {
				s.Owners = append(s.Owners, p)
			}
		}
	}
	if s.Inode != 0 { // the kernel's record of the owner, named: shown where the process cannot be
		s.User = l.procs.userName(int32(s.UID))
	}
	switch {
	case len(s.Owners) > 0:
		s.OwnerStatus = sockets.OwnerKnown
	case s.Inode == 0:
		s.OwnerStatus = sockets.OwnerNone
	case !snap.Root && int(s.UID) != l.euid:
		s.OwnerStatus = sockets.OwnerHidden
		snap.Hidden++
	case len(pids) > 0 || gone[s.Inode]:
		// Its owners were known, and have exited since; or it was closed
		// after the listing. Either way its owner is gone, and the index
		// forgets them next poll (they are no longer listed), so the next
		// poll looks for the socket's owner again.
		s.OwnerStatus = sockets.OwnerGone
	case snap.Unreadable != nil:
		// Some process may hold it whose descriptors could not be read:
		// "outside" would be a guess.
		s.OwnerStatus, s.Unreadable = sockets.OwnerUnreadable, snap.Unreadable
	default:
		// Every process in view was read, and none holds it.
		s.OwnerStatus = sockets.OwnerOutside
	}
}

func readSysctl(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
