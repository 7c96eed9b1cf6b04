package sockets

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Source produces snapshots. The TUI takes one, so its tests can use a fake.
type Source interface {
	Snapshot(ctx context.Context) (*Snapshot, error)
}

// Live reads the machine this process runs on. It keeps a process cache
// between polls; Snapshot may be called from any goroutine, one call at a time
// being served (a second waits for the first).
type Live struct {
	mu        sync.Mutex
	procRoot  string
	procs     *processCache
	euid      int
	dualStack bool
}

// NewLive returns a Source reading /proc.
func NewLive() *Live { return newLiveAt("/proc") }

func newLiveAt(procRoot string) *Live {
	return &Live{
		procRoot: procRoot,
		procs:    newProcessCache(procRoot),
		euid:     os.Geteuid(),
		// With net.ipv6.bindv6only=0 (the default) an IPv6 wildcard listener
		// accepts IPv4 too, unless the program set IPV6_V6ONLY itself.
		dualStack: readSysctl(filepath.Join(procRoot, "sys/net/ipv6/bindv6only")) != "1",
	}
}

// ProcessLoads is how many processes were read in full so far.
func (l *Live) ProcessLoads() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.procs.loads
}

// Snapshot lists every TCP and UDP socket of this network namespace with its
// owners.
func (l *Live) Snapshot(ctx context.Context) (*Snapshot, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := time.Now()
	socks, err := readProcNet(filepath.Join(l.procRoot, "self/net"), l.dualStack)
	if err != nil {
		return nil, err
	}
	scan, err := scanOwners(l.procRoot)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	snap := &Snapshot{Taken: start, Root: l.euid == 0, Method: "procfs"}
	for i := range socks {
		l.attachOwners(ctx, &socks[i], scan, snap)
	}
	l.procs.sweep()
	if snap.Hidden > 0 && !snap.Root {
		snap.HideNote = "not root: other users' processes cannot be inspected; run as root to see every owner"
	}
	SetDirections(socks)
	snap.Sockets = socks
	snap.Took = time.Since(start)
	return snap, nil
}

func (l *Live) attachOwners(ctx context.Context, s *Socket, scan ownerScan, snap *Snapshot) {
	pids := scan.owners[s.Inode]
	slices.Sort(pids)
	for _, pid := range pids {
		if p := l.procs.get(ctx, pid); p != nil {
			s.Owners = append(s.Owners, p)
		}
	}
	switch {
	case len(s.Owners) > 0:
		s.OwnerStatus = OwnerKnown
	case s.Inode == 0:
		s.OwnerStatus = OwnerNone
	case !snap.Root && int(s.UID) != l.euid:
		s.OwnerStatus = OwnerHidden
		snap.Hidden++
	default:
		s.OwnerStatus = OwnerOutside
	}
}

func readSysctl(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
