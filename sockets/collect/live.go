//go:build linux

package collect

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portwatch/portwatch/sockets"
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
	mu        sync.Mutex
	method    string
	procRoot  string
	procs     *processCache
	index     *ownerIndex
	netns     *netnsIndex
	netlink   *netlinkLister
	euid      int
	dualStack bool
	spare     []sockets.Socket // a recycled snapshot's array, for the next poll
}

// NewLive returns the fastest Source that works here: netlink sock_diag,
// else the /proc/net tables. The first poll that netlink refuses switches
// to /proc for good (PORTWATCH_NO_NETLINK=1 starts there: for tests and for
// kernels whose sock_diag misbehaves).
func NewLive() *Live {
	if os.Getenv("PORTWATCH_NO_NETLINK") != "" {
		return newLive("/proc", MethodProcfs)
	}
	return newLive("/proc", MethodNetlink)
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
	if method == MethodNetlink {
		l.netlink = newNetlinkLister()
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
	socks, err := l.list()
	if err != nil {
		return nil, err
	}
	pids, err := listPIDs(l.procRoot)
	if err != nil {
		return nil, err
	}
	for i := range socks {
		socks[i].Netns, socks[i].NetnsInode = sockets.HostNetns, l.netns.self
	}
	hostCount := len(socks)
	socks = l.appendForeignNamespaces(socks, pids)
	if l.method == MethodReference {
		l.index = newOwnerIndex(l.procRoot) // forget everything: walk it all
	}
	l.index.update(pids, socks, start)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	snap := &sockets.Snapshot{Taken: start, Root: l.euid == 0, Method: l.method}
	// Most sockets have one owner, and a server has thousands with the same
	// one: they share one read-only owners slice.
	single := map[int32][]*sockets.Process{}
	var one [1]int32
	for i := range socks {
		l.attachOwners(ctx, &socks[i], l.index.owners(socks[i].Inode, &one), snap, single)
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
	snap.Took = time.Since(start)
	return snap, nil
}

// appendForeignNamespaces adds the sockets of every other network
// namespace, read through one of its processes: /proc/PID/net holds the
// tables of that process's namespace. A member that exits meanwhile is
// replaced by the next.
func (l *Live) appendForeignNamespaces(socks []sockets.Socket, pids []int32) []sockets.Socket {
	l.netns.update(pids)
	inodes, members := l.netns.foreign()
	for _, ino := range inodes {
		label := l.netns.label(ino, members[ino])
		for _, pid := range members[ino] {
			got, err := readProcNet(filepath.Join(l.procRoot, strconv.Itoa(int(pid)), "net"), l.dualStack)
			if err != nil {
				continue
			}
			for i := range got {
				got[i].Netns, got[i].NetnsInode = label, ino
			}
			socks = append(socks, got...)
			break
		}
	}
	return socks
}

// list reads the socket tables; if netlink fails mid-life (a seccomp
// profile, a changed namespace), the source falls back to /proc for good.
func (l *Live) list() ([]sockets.Socket, error) {
	spare := l.spare // only netlink refills it; /proc's parser makes its own
	l.spare = nil
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

func (l *Live) attachOwners(ctx context.Context, s *sockets.Socket, pids []int32, snap *sockets.Snapshot, single map[int32][]*sockets.Process) {
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
	default:
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
